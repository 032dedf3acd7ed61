import { commonErrors } from "../errors/common-errors.js";

/** Longest model alias, in characters (MLflow's limit). */
const maxAliasLength = 255;

/** The alias rule in words, for messages that state it whole (configuration). */
export const aliasRule = `1 to ${maxAliasLength} letters, digits, _ and -; not "latest" or v<digits>`;

/**
 * Why `alias` is not a model alias, or undefined when it is. MLflow's rules: 1 to 255 letters,
 * digits, `_` and `-`; `latest` and `v<digits>` (any case) are reserved because they already name
 * versions. ASCII only, where MLflow's `\w` also admits other Unicode letters: aliases travel in
 * URLs and headers.
 */
export function aliasProblem(alias: string): string | undefined {
  if (alias === "") return "must not be empty";
  if (alias.length > maxAliasLength) return `must be at most ${maxAliasLength} characters`;
  if (!/^[A-Za-z0-9_-]+$/.test(alias)) return `"${alias}" may only contain letters, digits, '_' and '-'`;
  if (alias.toLowerCase() === "latest") return "'latest' is reserved";
  if (/^[vV]\d+$/.test(alias)) return `"${alias}" is reserved for version numbers`;
  return undefined;
}

/** A model alias (see {@link aliasProblem}); INVALID_ARGUMENT naming `field` otherwise. */
export function validateAlias(alias: string, field = "alias"): string {
  const problem = aliasProblem(alias);
  if (problem !== undefined) throw commonErrors.invalidArgument(field, problem);
  return alias;
}

/**
 * Why `text` names neither a stage nor an alias a server could follow, or undefined. The four
 * stage names (None, Staging, Production, Archived, in any case) are themselves valid alias
 * text, so one rule covers both: the alias rule, reserved names included.
 */
export function stageOrAliasProblem(text: string): string | undefined {
  return aliasProblem(text);
}
