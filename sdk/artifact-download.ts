/**
 * Artifact downloads: one file (DownloadArtifact, checked against the SHA-256 the server announces,
 * written atomically) or every file under a directory (walked with ListArtifacts, which lists one
 * level and does not page), keeping the layout below it and never writing outside the destination.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, resolve, sep } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { commonErrors } from "../core/errors/common-errors.js";
import { sdkErrors } from "../core/errors/sdk-errors.js";
import { type FileInfo, FileInfoSchema, type TrackingService } from "../gen/mlpipe/tracking/v1/tracking_pb.js";

/** Options of the download functions. */
export interface DownloadOptions {
  /**
   * Called as bytes arrive with the bytes written so far and the total when known (a file's once
   * its info arrived; a directory's from the listing, over all its files).
   */
  readonly onProgress?: (doneBytes: number, totalBytes: number | undefined) => void;
}

/**
 * Checks a path of a run's artifacts given by the caller: relative and `/`-separated, with no `.`
 * or `..` segment, so that what is downloaded for it stays inside the destination. A trailing `/`
 * is dropped; "" is the run's artifact root. Throws INVALID_ARGUMENT naming `field`. The server
 * checks the rest of its rules (length, characters) when asked.
 */
export function checkArtifactPath(path: string, field: string): string {
  const trimmed = path.replace(/\/+$/, "");
  if (trimmed === "") return path === "" ? "" : invalid(field, "must be relative, not start with `/`");
  if (trimmed.startsWith("/")) invalid(field, "must be relative, not start with `/`");
  if (trimmed.includes("\\")) invalid(field, "must use `/` as separator, not `\\`");
  for (const segment of trimmed.split("/")) {
    if (segment === "") invalid(field, "must not contain empty segments (`//`)");
    if (segment === "." || segment === "..") invalid(field, `must not contain a \`${segment}\` segment`);
  }
  return trimmed;
}

function invalid(field: string, reason: string): never {
  throw commonErrors.invalidArgument(field, reason);
}

/**
 * What the run has at `path`: its FileInfo (a file, or a directory with `isDir`), or undefined when
 * there is nothing there. One ListArtifacts call on the parent directory; "" is the root directory.
 */
export async function statArtifact(
  tracking: Client<typeof TrackingService>,
  runId: string,
  path: string,
): Promise<FileInfo | undefined> {
  const checked = checkArtifactPath(path, "path");
  if (checked === "") {
    const { files } = await tracking.listArtifacts({ runId, path: "" });
    return files.length === 0 ? undefined : create(FileInfoSchema, { path: "", isDir: true });
  }
  const slash = checked.lastIndexOf("/");
  const { files } = await tracking.listArtifacts({ runId, path: slash < 0 ? "" : checked.slice(0, slash) });
  // A path may be both a file and a directory prefix on a blob store; the directory wins, as
  // ListArtifacts lists it.
  return files.find((f) => f.path === checked && f.isDir) ?? files.find((f) => f.path === checked);
}

/**
 * Every file under the artifact directory `dir` of a run ("" for all), recursively, sorted by path.
 * Throws SDK_ARTIFACT_PATH_UNSAFE when the server lists a path that is not strictly below the
 * directory it was asked for (which a well-behaved server never does).
 */
export async function listArtifactFiles(
  tracking: Client<typeof TrackingService>,
  runId: string,
  dir: string,
): Promise<FileInfo[]> {
  const root = checkArtifactPath(dir, "artifactDir");
  const files: FileInfo[] = [];
  const pending = [root];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const listed = await tracking.listArtifacts({ runId, path: next });
    for (const entry of listed.files) {
      relativeSegments(entry.path, next);
      if (entry.isDir) pending.push(entry.path);
      else files.push(entry);
    }
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The segments of `path` below `dir` (a `/`-separated artifact path, "" for the root); throws
 * SDK_ARTIFACT_PATH_UNSAFE unless `path` lies strictly below `dir` with only plain segments, so
 * joining them to a local directory cannot leave it.
 */
function relativeSegments(path: string, dir: string): string[] {
  const prefix = dir === "" ? "" : `${dir}/`;
  const unsafe = () => sdkErrors.artifactPathUnsafe(path, dir);
  if (!path.startsWith(prefix) || path.length === prefix.length) throw unsafe();
  const segments = path.slice(prefix.length).split("/");
  for (const s of segments) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and other control characters are what is refused.
    if (s === "" || s === "." || s === ".." || /[\\\x00-\x1f]/.test(s)) throw unsafe();
  }
  return segments;
}

/**
 * Downloads the artifact file `artifactPath` of run `runId` to `localFile` (parent directories
 * created). The content goes to a temporary file beside it, renamed into place only once complete
 * and matching the SHA-256 the server announced (SDK_DOWNLOAD_CHECKSUM_MISMATCH otherwise), so an
 * interrupted or corrupted download never leaves a partial file. A missing file is the server's
 * NOT_FOUND (TRACKING_ARTIFACT_NOT_FOUND). Returns the file's info.
 */
export async function downloadArtifactFile(
  tracking: Client<typeof TrackingService>,
  runId: string,
  artifactPath: string,
  localFile: string,
  options: DownloadOptions = {},
): Promise<FileInfo> {
  await mkdir(dirname(localFile), { recursive: true });
  const partial = `${localFile}.part-${process.pid}`;
  const out = createWriteStream(partial);
  const hash = createHash("sha256");
  let info: FileInfo | undefined;
  let received = 0;
  try {
    for await (const message of tracking.downloadArtifact({ runId, path: artifactPath })) {
      if (message.content.case === "info") {
        info = message.content.value;
        options.onProgress?.(received, Number(info.fileSize));
      } else if (message.content.case === "chunk") {
        const chunk = message.content.value;
        hash.update(chunk);
        received += chunk.length;
        if (!out.write(chunk)) await once(out, "drain");
        options.onProgress?.(received, info === undefined ? undefined : Number(info.fileSize));
      }
    }
    out.end();
    await once(out, "finish");
    if (info === undefined) throw commonErrors.internal(new Error("DownloadArtifact sent no file info"));
    const actual = hash.digest("hex");
    if (info.sha256 !== "" && info.sha256 !== actual) {
      throw sdkErrors.downloadChecksumMismatch(artifactPath, info.sha256, actual);
    }
    await rename(partial, localFile);
    return info;
  } catch (err) {
    out.destroy();
    await rm(partial, { force: true });
    throw err;
  }
}

/**
 * Downloads every file under the artifact directory `artifactDir` of run `runId` ("" for all of
 * the run's artifacts) into `localDir` (created when missing), keeping their layout below
 * `artifactDir`: `model/sub/w.bin` under `model` lands in `<localDir>/sub/w.bin`. Files are
 * fetched one at a time, each checked against its SHA-256 and written atomically; existing files
 * at the same local paths are replaced. Throws SDK_ARTIFACT_NOT_FOUND when nothing is under
 * `artifactDir`, INVALID_ARGUMENT when `artifactDir` has a `..` segment or is absolute or when
 * `localDir` is not a directory, and SDK_ARTIFACT_PATH_UNSAFE (before writing anything) when the
 * server lists a path that would land outside `localDir`. Returns the downloaded files' info.
 */
export async function downloadArtifactDir(
  tracking: Client<typeof TrackingService>,
  runId: string,
  artifactDir: string,
  localDir: string,
  options: DownloadOptions = {},
): Promise<FileInfo[]> {
  const dir = checkArtifactPath(artifactDir, "artifactDir");
  const files = await listArtifactFiles(tracking, runId, dir);
  if (files.length === 0) throw sdkErrors.artifactNotFound(runId, dir, "directory");
  const base = resolve(localDir);
  // Every target is worked out before the first byte is written.
  const plan = files.map((file) => {
    const target = resolve(base, ...relativeSegments(file.path, dir));
    if (!target.startsWith(base + sep)) throw sdkErrors.artifactPathUnsafe(file.path, dir);
    return { file, target };
  });
  await makeDirectory(base, "localDir");
  const total = files.reduce((sum, f) => sum + Number(f.fileSize), 0);
  let done = 0;
  const downloaded: FileInfo[] = [];
  for (const { file, target } of plan) {
    const onProgress = (bytes: number) => options.onProgress?.(done + bytes, total);
    const info = await downloadArtifactFile(tracking, runId, file.path, target, { onProgress });
    done += Number(info.fileSize);
    downloaded.push(info);
  }
  return downloaded;
}

/** Creates `dir` (and its parents) unless it exists; INVALID_ARGUMENT naming `field` when a file is in the way. */
async function makeDirectory(dir: string, field: string): Promise<void> {
  const existing = await stat(dir).catch(() => undefined);
  if (existing !== undefined && !existing.isDirectory()) {
    throw commonErrors.invalidArgument(field, `"${dir}" exists and is not a directory`);
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    if (err instanceof Error && "code" in err && (err.code === "ENOTDIR" || err.code === "EEXIST")) {
      throw commonErrors.invalidArgument(field, `cannot create directory "${dir}": a file is in the way`);
    }
    throw err;
  }
}
