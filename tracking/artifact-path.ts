import { commonErrors } from "../core/errors/common-errors.js";
import { trackingErrors } from "../core/errors/tracking-errors.js";

/** Longest artifact path accepted, in characters (UTF-16 code units, as JavaScript counts them). */
export const maxArtifactPathLength = 1024;

/** Options of {@link validateArtifactPath}. */
export interface ArtifactPathOptions {
  /** Accept "" as the run's artifact root (ListArtifacts); default false. */
  readonly allowRoot?: boolean;
}

/**
 * Checks a path inside a run's artifacts and returns it unchanged: relative, `/`-separated, at
 * most {@link maxArtifactPathLength} characters, with no empty, `.` or `..` segment (so no leading
 * or trailing `/`, no `//`), no backslash and no control character (NUL included). These rules
 * make every path name exactly one file under the run's root on any blob store, so a path can
 * never escape it. Throws INVALID_ARGUMENT naming `field` otherwise.
 */
export function validateArtifactPath(path: string, field: string, options: ArtifactPathOptions = {}): string {
  if (path === "") {
    if (options.allowRoot === true) return path;
    throw commonErrors.invalidArgument(field, "must not be empty");
  }
  if (path.length > maxArtifactPathLength) {
    throw commonErrors.invalidArgument(field, `must be at most ${maxArtifactPathLength} characters`);
  }
  if (path.includes("\\")) throw commonErrors.invalidArgument(field, "must use `/` as separator, not `\\`");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is rejected.
  if (/[\u0000-\u001f\u007f]/.test(path))
    throw commonErrors.invalidArgument(field, "must not contain control characters");
  if (path.startsWith("/")) throw commonErrors.invalidArgument(field, "must be relative, not start with `/`");
  for (const segment of path.split("/")) {
    if (segment === "")
      throw commonErrors.invalidArgument(field, "must not contain empty segments (`//` or a trailing `/`)");
    if (segment === "." || segment === "..") {
      throw commonErrors.invalidArgument(field, `must not contain a \`${segment}\` segment`);
    }
  }
  return path;
}

/**
 * The blob-store key prefix (ending in `/`) of a run's artifacts: the part of `artifactUri` below
 * the blob store's `rootUri`. E.g. `file:///srv/a/1/<run>/artifacts` under `file:///srv/a` gives
 * `1/<run>/artifacts/`. Throws TRACKING_ARTIFACT_LOCATION_UNSUPPORTED when the URI is not strictly
 * under the root (an experiment created with a foreign artifact_location), or when the part below
 * it is not a clean relative path.
 */
export function artifactKeyPrefix(artifactUri: string, rootUri: string): string {
  const root = rootUri.endsWith("/") ? rootUri.slice(0, -1) : rootUri;
  const unsupported = () => trackingErrors.artifactLocationUnsupported(artifactUri, root);
  if (!artifactUri.startsWith(`${root}/`)) throw unsupported();
  let relative = artifactUri.slice(root.length + 1);
  if (relative.endsWith("/")) relative = relative.slice(0, -1);
  try {
    validateArtifactPath(relative, "artifact_uri");
  } catch {
    throw unsupported();
  }
  return `${relative}/`;
}

/** The blob-store key of the file at `path` (already validated) among a run's artifacts. */
export function artifactKey(artifactUri: string, rootUri: string, path: string): string {
  return artifactKeyPrefix(artifactUri, rootUri) + path;
}
