import { randomUUID } from "node:crypto";
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { commonErrors } from "../../core/errors/common-errors.js";
import { MlpipeError } from "../../core/errors/mlpipe-error.js";
import { blobPrefixAsDirectory, checkBlobKey } from "./blob-key.js";
import type { BlobInfo, BlobReader, BlobStore, PutOptions } from "./blob-store.js";
import { abortError, hashedCopy } from "./hashed-copy.js";

/**
 * Directory under the root where puts write before the atomic rename; keys may not start with it.
 * On the same filesystem as the content, so the rename never copies.
 */
const tempDirName = ".tmp";

/** Read chunk size of `get`, in bytes. */
const readChunkBytes = 256 * 1024;

/** Temporary files older than this (ms) are left over from a crash and removed at startup. */
const staleTempMs = 24 * 60 * 60 * 1000;

/**
 * Creates a blob store over a local directory (created if missing), the default artifact store.
 * `rootUri` is the `file://` URL of the absolute directory.
 *
 * A put streams into `<root>/.tmp/<uuid>` while hashing, fsyncs, then renames into place, so
 * readers see the previous content or the new one, never a part; a reader that already opened the
 * previous content keeps reading it. On a checksum mismatch, an abort or any error the temporary
 * file is removed. Temporary files older than a day (left by a crash) are removed at creation.
 *
 * Filesystem failures (ENOSPC, EACCES, EIO, ...) become BLOB_STORE_UNAVAILABLE with the cause;
 * a key whose path runs into an existing file or directory (`a` is a file, `a/b` is put) is
 * INVALID_ARGUMENT.
 */
export async function createLocalBlobStore(rootDir: string): Promise<BlobStore> {
  const root = resolve(rootDir);
  const tempDir = join(root, tempDirName);
  try {
    await mkdir(tempDir, { recursive: true });
  } catch (err) {
    throw translateFsError(err);
  }
  await removeStaleTempFiles(tempDir);

  /** Absolute path of a key; refuses keys that would leave the root or enter the temp dir. */
  function pathOf(key: string, field = "key"): string {
    const path = resolve(root, key);
    if (!path.startsWith(root + sep) || path === tempDir || path.startsWith(tempDir + sep)) {
      throw commonErrors.invalidArgument(field, `"${key}" is outside the artifact root or reserved`);
    }
    return path;
  }

  async function put(key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<BlobInfo> {
    checkBlobKey(key);
    const target = pathOf(key);
    const temp = join(tempDir, randomUUID());
    let handle: FileHandle | undefined;
    try {
      await mkdir(tempDir, { recursive: true });
      const file = await open(temp, "wx");
      handle = file;
      const info = await hashedCopy(body, options, (chunk) => writeAll(file, chunk));
      await file.sync();
      handle = undefined;
      await file.close();
      if (options.signal?.aborted === true) throw abortError(options.signal);
      await moveIntoPlace(temp, target, key);
      return info;
    } catch (err) {
      await handle?.close().catch(() => {});
      await rm(temp, { force: true }).catch(() => {});
      throw translateFsError(err);
    }
  }

  async function get(key: string, options: { signal?: AbortSignal } = {}): Promise<BlobReader> {
    checkBlobKey(key);
    const path = pathOf(key);
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, "r");
      const info = await handle.stat();
      if (!info.isFile()) throw commonErrors.blobNotFound(key);
      const stream = handle.createReadStream({
        highWaterMark: readChunkBytes,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      handle = undefined;
      return { size: info.size, body: translateReadErrors(stream, options.signal) };
    } catch (err) {
      await handle?.close().catch(() => {});
      if (isMissing(err)) throw commonErrors.blobNotFound(key);
      throw translateFsError(err);
    }
  }

  async function statKey(key: string): Promise<{ size: number } | undefined> {
    checkBlobKey(key);
    try {
      const info = await stat(pathOf(key));
      return info.isFile() ? { size: info.size } : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw translateFsError(err);
    }
  }

  async function deletePrefix(prefix: string): Promise<void> {
    const directory = pathOf(blobPrefixAsDirectory(prefix).slice(0, -1), "prefix");
    try {
      await rm(directory, { recursive: true, force: true });
    } catch (err) {
      throw translateFsError(err);
    }
  }

  return {
    rootUri: pathToFileURL(root).href,
    put,
    get,
    stat: statKey,
    deletePrefix,
    close: async () => {},
  };
}

/** Writes the whole chunk: a file write may take fewer bytes than asked. */
async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

/**
 * Renames the finished temporary file onto the key's path, then fsyncs the directory so the
 * rename survives a crash. ENOTDIR/EEXIST/EISDIR here mean the key collides with an existing
 * file or directory, a bad key rather than a failing disk.
 */
async function moveIntoPlace(temp: string, target: string, key: string): Promise<void> {
  const directory = dirname(target);
  try {
    await mkdir(directory, { recursive: true });
    await rename(temp, target);
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOTDIR" || code === "EEXIST" || code === "EISDIR") {
      throw commonErrors.invalidArgument("key", `"${key}" collides with an existing file or directory`);
    }
    throw err;
  }
  await syncDirectory(directory);
}

async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, "r");
    await handle.sync();
  } catch {
    // Some platforms cannot fsync a directory (EISDIR, EINVAL); the rename itself is done.
  } finally {
    await handle?.close().catch(() => {});
  }
}

async function removeStaleTempFiles(tempDir: string): Promise<void> {
  const cutoff = Date.now() - staleTempMs;
  try {
    for (const name of await readdir(tempDir)) {
      const path = join(tempDir, name);
      const info = await stat(path).catch(() => undefined);
      if (info !== undefined && info.mtimeMs < cutoff) await rm(path, { recursive: true, force: true });
    }
  } catch {
    // Best effort: another process may be cleaning the same directory.
  }
}

async function* translateReadErrors(
  stream: AsyncIterable<Uint8Array>,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    yield* stream;
  } catch (err) {
    if (signal?.aborted === true) throw abortError(signal);
    throw translateFsError(err);
  }
}

function errnoCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("code" in err)) return undefined;
  return typeof err.code === "string" ? err.code : undefined;
}

function isMissing(err: unknown): boolean {
  const code = errnoCode(err);
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}

/**
 * Filesystem errors (an errno code such as ENOSPC, EACCES, EIO, EROFS, EMFILE, not Node's ERR_*) become
 * BLOB_STORE_UNAVAILABLE with the cause; MlpipeErrors and anything else pass through unchanged
 * (the network edge turns unknown errors into INTERNAL and logs them).
 */
function translateFsError(err: unknown): unknown {
  if (err instanceof MlpipeError) return err;
  const code = errnoCode(err);
  if (code !== undefined && /^E[A-Z]+$/.test(code)) return commonErrors.blobStoreUnavailable(err);
  return err;
}
