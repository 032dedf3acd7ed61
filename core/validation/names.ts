import { commonErrors } from "../errors/common-errors.js";
import { hasControlCharacters, validateText } from "./text.js";

/** Longest experiment name, in characters (MLflow's limit). */
const maxExperimentNameLength = 500;
/** Longest run name, in characters (MLflow's limit). */
const maxRunNameLength = 250;
/** Longest registered model name, in characters. */
const maxModelNameLength = 256;

/** A display name: free text of `min` to `max` characters on one line, read as stored. */
function validateDisplayName(name: string, field: string, min: number, max: number): string {
  validateText(name, field, min, max);
  if (hasControlCharacters(name)) {
    throw commonErrors.invalidArgument(field, "must not contain control or bidirectional formatting characters");
  }
  return name;
}

/**
 * Experiment names: 1 to 500 characters, no control characters (newlines, NUL, C1) and no
 * bidirectional formatting characters. INVALID_ARGUMENT naming `field` otherwise.
 */
export function validateExperimentName(name: string, field = "name"): string {
  return validateDisplayName(name, field, 1, maxExperimentNameLength);
}

/**
 * Run names: at most 250 characters ("" is allowed where the caller gives it a meaning), no
 * control or bidirectional formatting characters.
 */
export function validateRunName(name: string, field = "run_name"): string {
  return validateDisplayName(name, field, 0, maxRunNameLength);
}

/** The registered-model name rule in words, for messages that state it whole (configuration). */
export const modelNameRule = `1 to ${maxModelNameLength} characters without "/" or control characters, not starting or ending with whitespace`;

/**
 * Why `name` is not a registered model name, or undefined when it is: 1 to 256 characters, no
 * `/` (names appear in `models:/<name>/<version>` URIs), no control characters, no leading or
 * trailing whitespace.
 */
export function modelNameProblem(name: string): string | undefined {
  if (name === "") return "must not be empty";
  if (name.length > maxModelNameLength) return `must be at most ${maxModelNameLength} characters`;
  if (name.includes("/") || hasControlCharacters(name)) {
    return "must not contain '/', control or bidirectional formatting characters";
  }
  if (name.trim() !== name) return "must not start or end with whitespace";
  return undefined;
}

/** A registered model name (see {@link modelNameProblem}); INVALID_ARGUMENT naming `field` otherwise. */
export function validateModelName(name: string, field = "name"): string {
  const problem = modelNameProblem(name);
  if (problem !== undefined) throw commonErrors.invalidArgument(field, problem);
  return name;
}
