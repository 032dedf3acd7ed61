/**
 * Where a model version is registered from: `runs:/<run_id>/<path>` (a file among a run's
 * artifacts) or an absolute URI under the artifact store's root. Parsing is syntax only; whether
 * the file exists is found out at registration.
 */
import { isAbsolute, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { commonErrors } from "../core/errors/common-errors.js";
import { isRunIdInUri } from "../core/validation/ids.js";

/** A parsed registration source: a run's artifact file, or a key of the artifact store. */
export type RegistrationSource =
  | { readonly kind: "run"; readonly runId: string; readonly path: string }
  | { readonly kind: "blob"; readonly key: string };

/**
 * Parses a `source` field. A `runs:/` source needs a run id and a relative file path without
 * `.`/`..` or empty segments; any other URI must lie under `rootUri` (the artifact store's root),
 * because the registry reads nothing else. Throws INVALID_ARGUMENT (field "source").
 */
export function parseRegistrationSource(source: string, rootUri: string): RegistrationSource {
  if (source === "") throw commonErrors.invalidArgument("source", "must not be empty");
  if (source.startsWith("runs:")) {
    const m = /^runs:\/([^/]+)\/(.+)$/.exec(source);
    if (m?.[1] === undefined || m[2] === undefined) {
      throw commonErrors.invalidArgument("source", `"${source}" is not of the form runs:/<run_id>/<path>`);
    }
    if (!isRunIdInUri(m[1])) throw commonErrors.invalidArgument("source", `"${m[1]}" is not a valid run id`);
    const problem = relativePathProblem(m[2]);
    if (problem !== undefined) throw commonErrors.invalidArgument("source", `artifact path "${m[2]}" ${problem}`);
    return { kind: "run", runId: m[1], path: m[2] };
  }
  if (!/^[a-z][a-z0-9+.-]*:/i.test(source)) {
    throw commonErrors.invalidArgument("source", `"${source}" is neither runs:/<run_id>/<path> nor an absolute URI`);
  }
  const key = blobKeyOfUri(rootUri, source);
  if (key === undefined) {
    throw commonErrors.invalidArgument("source", `"${source}" is not a file under the artifact root ${rootUri}`);
  }
  return { kind: "blob", key };
}

/**
 * The blob-store key of `uri` when it lies under `rootUri`, else undefined. `file:` URIs are
 * compared as paths (percent-encoding and `..` resolved); other schemes (`s3://`) by prefix.
 */
export function blobKeyOfUri(rootUri: string, uri: string): string | undefined {
  let key: string;
  if (rootUri.startsWith("file:")) {
    if (!uri.startsWith("file:")) return undefined;
    let rel: string;
    try {
      rel = relative(fileURLToPath(rootUri), fileURLToPath(uri));
    } catch {
      return undefined;
    }
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return undefined;
    key = rel.split(sep).join("/");
  } else {
    const root = rootUri.endsWith("/") ? rootUri.slice(0, -1) : rootUri;
    if (!uri.startsWith(`${root}/`)) return undefined;
    key = uri.slice(root.length + 1);
  }
  return relativePathProblem(key) === undefined ? key : undefined;
}

/** Joins a directory URI and a relative path with exactly one `/`. */
export function joinUri(base: string, path: string): string {
  return `${base.endsWith("/") ? base.slice(0, -1) : base}/${path}`;
}

function relativePathProblem(path: string): string | undefined {
  if (path.startsWith("/")) return "must be relative";
  if (path.includes("\\") || path.includes("\0")) return "must not contain a backslash or NUL";
  for (const segment of path.split("/")) {
    if (segment === "") return "has an empty segment";
    if (segment === "." || segment === "..") return "has a '.' or '..' segment";
  }
  return undefined;
}
