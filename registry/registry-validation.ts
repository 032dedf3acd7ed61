/**
 * Checks of the registry's request fields, done by the service before the store is called. Each
 * failure is INVALID_ARGUMENT naming the field, so a client can point at what to fix.
 */
import { commonErrors } from "../core/errors/common-errors.js";
import { Stage } from "../gen/mlpipe/registry/v1/registry_pb.js";

/** Longest registered model name, in characters. */
export const maxModelNameLength = 256;
/** Longest description of a model or version, in characters. */
export const maxDescriptionLength = 5000;
/** Longest tag key, in characters. */
export const maxTagKeyLength = 250;
/** Longest tag value, in characters. */
export const maxTagValueLength = 5000;
/** Longest alias, in characters (MLflow's limit). */
export const maxAliasLength = 255;
/** Longest actor name taken from the `mlpipe-actor` header, in characters. */
export const maxActorLength = 256;
/** Largest number of tags in one create request. */
export const maxTagsPerRequest = 100;

/** The `mlpipe-actor` request header, and the actor recorded when it is absent. */
export const actorHeader = "mlpipe-actor";
export const anonymousActor = "anonymous";

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
const controlCharacters = /[\u0000-\u001f\u007f]/;

/** A registered model name: 1 to 256 characters, no `/`, no control characters. */
export function checkModelName(name: string, field = "name"): string {
  if (name === "") throw commonErrors.invalidArgument(field, "must not be empty");
  if (name.length > maxModelNameLength) {
    throw commonErrors.invalidArgument(field, `must be at most ${maxModelNameLength} characters`);
  }
  if (name.includes("/") || controlCharacters.test(name)) {
    throw commonErrors.invalidArgument(field, "must not contain '/' or control characters");
  }
  if (name.trim() !== name) throw commonErrors.invalidArgument(field, "must not start or end with whitespace");
  return name;
}

/** A description: up to 5000 characters. */
export function checkDescription(description: string, field = "description"): string {
  if (description.length > maxDescriptionLength) {
    throw commonErrors.invalidArgument(field, `must be at most ${maxDescriptionLength} characters`);
  }
  return description;
}

/** A tag key (1 to 250 characters, no control characters) and value (up to 5000 characters). */
export function checkTag(key: string, value: string, field = "key"): void {
  if (key === "" || key.length > maxTagKeyLength) {
    throw commonErrors.invalidArgument(field, `must be 1 to ${maxTagKeyLength} characters`);
  }
  if (controlCharacters.test(key)) throw commonErrors.invalidArgument(field, "must not contain control characters");
  if (value.length > maxTagValueLength) {
    throw commonErrors.invalidArgument(
      field === "key" ? "value" : `${field}.value`,
      `must be at most ${maxTagValueLength} characters`,
    );
  }
}

/** The tags of a create request: at most 100, each checked. */
export function checkTags(tags: Readonly<Record<string, string>>): void {
  const keys = Object.keys(tags);
  if (keys.length > maxTagsPerRequest) throw commonErrors.invalidArgument("tags", `at most ${maxTagsPerRequest}`);
  for (const key of keys) checkTag(key, tags[key] ?? "", `tags[${JSON.stringify(key)}]`);
}

/** A version number: 1 or more. */
export function checkVersion(version: bigint, field = "version"): bigint {
  if (version < 1n) throw commonErrors.invalidArgument(field, "must be a version number (1 or more)");
  return version;
}

/**
 * An alias, by MLflow's rules: 1 to 255 letters, digits, `_` and `-`; `latest` and `v<digits>`
 * (any case) are reserved because they already name versions. ASCII only, where MLflow's `\w`
 * also admits other Unicode letters: aliases travel in URLs and headers.
 */
export function checkAlias(alias: string, field = "alias"): string {
  if (alias === "") throw commonErrors.invalidArgument(field, "must not be empty");
  if (alias.length > maxAliasLength) {
    throw commonErrors.invalidArgument(field, `must be at most ${maxAliasLength} characters`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(alias)) {
    throw commonErrors.invalidArgument(field, `"${alias}" may only contain letters, digits, '_' and '-'`);
  }
  if (alias.toLowerCase() === "latest") throw commonErrors.invalidArgument(field, "'latest' is reserved");
  if (/^[vV]\d+$/.test(alias)) throw commonErrors.invalidArgument(field, `"${alias}" is reserved for version numbers`);
  return alias;
}

/** A stage given in a request: one of the four, not unspecified nor an unknown number. */
export function checkStage(stage: Stage, field = "stage"): Stage {
  if (stage === Stage.NONE || stage === Stage.STAGING || stage === Stage.PRODUCTION || stage === Stage.ARCHIVED) {
    return stage;
  }
  throw commonErrors.invalidArgument(field, "must be one of NONE, STAGING, PRODUCTION, ARCHIVED");
}

/** The actor of a mutating call from its `mlpipe-actor` header value: trimmed, "anonymous" when absent. */
export function actorFrom(header: string | null | undefined): string {
  const actor = header?.trim() ?? "";
  if (actor === "") return anonymousActor;
  if (actor.length > maxActorLength || controlCharacters.test(actor)) {
    throw commonErrors.invalidArgument(actorHeader, `must be at most ${maxActorLength} printable characters`);
  }
  return actor;
}

/** Page size: 0 means the default; otherwise 1 to `max`. */
export function checkMaxResults(value: number, fallback: number, max: number, field = "max_results"): number {
  if (value === 0) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw commonErrors.invalidArgument(field, `must be between 1 and ${max}`);
  }
  return value;
}
