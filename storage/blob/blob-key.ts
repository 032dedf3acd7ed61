import { commonErrors } from "../../core/errors/common-errors.js";

/**
 * Defensive check of a blob key, shared by both stores. Callers validate keys first; this only
 * refuses what could escape the store's root or be read differently by a filesystem or an S3
 * server that normalises paths: empty keys or segments, a leading `/`, `.` and `..` segments,
 * backslashes and NUL. Throws INVALID_ARGUMENT (field "key").
 */
export function checkBlobKey(key: string): void {
  const reason = keyProblem(key);
  if (reason !== undefined) throw commonErrors.invalidArgument("key", `"${key}" ${reason}`);
}

/**
 * Checks a prefix given to `deletePrefix` and returns it as a directory key ending in `/`, so
 * that "3" removes "3/..." but never "30/...". The empty prefix (the whole store) is refused.
 */
export function blobPrefixAsDirectory(prefix: string): string {
  const trimmed = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  const reason = keyProblem(trimmed);
  if (reason !== undefined) throw commonErrors.invalidArgument("prefix", `"${prefix}" ${reason}`);
  return `${trimmed}/`;
}

function keyProblem(key: string): string | undefined {
  if (key === "") return "is empty";
  if (key.includes("\0") || key.includes("\\")) return "contains a NUL or a backslash";
  if (key.startsWith("/")) return "is absolute";
  for (const segment of key.split("/")) {
    if (segment === "") return "has an empty segment";
    if (segment === "." || segment === "..") return "has a '.' or '..' segment";
  }
  return undefined;
}
