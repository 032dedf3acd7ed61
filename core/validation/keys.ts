import { commonErrors } from "../errors/common-errors.js";
import { hasControlCharacters, validateText } from "./text.js";

/** Longest metric, param or tag key, in characters (MLflow's limit; registry tag keys too). */
const maxKeyLength = 250;

/**
 * Tracking keys: MLflow's `^[\w\-. /:]+$` with Python's Unicode `\w` (letters, digits,
 * underscore), plus dash, dot, space, slash and colon. The search language's unquoted keys
 * (storage/query/filter-lexer.ts) are these characters but space.
 */
const keyPattern = /^[\p{L}\p{N}_\-. /:]+$/u;

/**
 * Metric, param and tag keys of runs and experiments: 1 to 250 characters of letters, digits,
 * `_ - . / :` and space, and a clean path (MLflow stores keys as file paths): no leading `/`, no
 * empty, `.` or `..` segment. INVALID_ARGUMENT naming `field` otherwise.
 */
export function validateKey(key: string, field: string): string {
  validateText(key, field, 1, maxKeyLength);
  if (!keyPattern.test(key)) {
    throw commonErrors.invalidArgument(
      field,
      `"${key}" may only contain letters, digits, underscores, dashes, periods, spaces, slashes and colons`,
    );
  }
  if (key.startsWith("/")) throw commonErrors.invalidArgument(field, `"${key}" must not start with "/"`);
  for (const segment of key.split("/")) {
    if (segment === "" || segment === "." || segment === "..") {
      throw commonErrors.invalidArgument(field, `"${key}" must be a clean path: no empty, "." or ".." segment`);
    }
  }
  return key;
}

/**
 * Tag keys of registered models and versions: 1 to 250 characters, no control characters. Looser
 * than {@link validateKey}: registry tags are labels, never file paths.
 */
export function validateModelTagKey(key: string, field = "key"): string {
  if (key === "" || key.length > maxKeyLength) {
    throw commonErrors.invalidArgument(field, `must be 1 to ${maxKeyLength} characters`);
  }
  if (hasControlCharacters(key)) throw commonErrors.invalidArgument(field, "must not contain control characters");
  return key;
}
