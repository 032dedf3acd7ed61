/** Parsing the registry's arguments on the command line: versions and stages. */
import { commonErrors } from "../core/errors/common-errors.js";
import { isStageName, type StageName } from "../sdk/index.js";

/** A version number: a positive integer (`3`, or `v3` as MLflow prints it). */
export function parseVersion(text: string, field = "<version>"): bigint {
  const digits = text.replace(/^v/i, "");
  if (!/^\d{1,18}$/.test(digits) || BigInt(digits) === 0n) {
    throw commonErrors.invalidArgument(field, `must be a positive integer, got "${text}"`);
  }
  return BigInt(digits);
}

/** A stage name in any case ("production" -> "Production"). */
export function parseStage(text: string, field = "<stage>"): StageName {
  const lower = text.toLowerCase();
  const name = `${lower.charAt(0).toUpperCase()}${lower.slice(1)}`;
  if (!isStageName(name)) {
    throw commonErrors.invalidArgument(field, `must be None, Staging, Production or Archived, got "${text}"`);
  }
  return name;
}
