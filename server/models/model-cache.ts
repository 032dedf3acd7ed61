/**
 * The local cache of model files downloaded from the registry:
 * `<root>/<name>/<version>/<sha256>.onnx` (root is `<MLPIPE_DATA_DIR>/model-cache`). A file gets
 * its final name only after its content matched the registry's SHA-256 (written to a temporary
 * file in the same directory, then renamed, so a crash never leaves a partial file under a final
 * name). The hash in the name ties the file to the content the registry described: a model deleted
 * and registered again under the same name and version number gets a new file, never the old one.
 */
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { inferenceErrors } from "../../core/errors/index.js";

/** What identifies a cached file: the registered name, the version and the content's hash. */
export interface CacheKey {
  readonly name: string;
  readonly version: string;
  /** Lower-case hex SHA-256 the registry recorded for the version. */
  readonly sha256: string;
}

/** The model cache. */
export interface ModelCache {
  /** Absolute root directory. */
  readonly root: string;
  /**
   * The cached file of `key` when there is one whose content still hashes to `key.sha256` (it is
   * re-hashed: a local read is cheap next to a download, and a corrupted file must not be loaded);
   * undefined otherwise, after removing a file that no longer matches.
   */
  find(key: CacheKey): Promise<string | undefined>;
  /**
   * Writes `chunks` under `key`, hashing as it goes, and gives the file its final name only when
   * the hash (and `size`, when given) match. Rejects with INFERENCE_MODEL_CHECKSUM_MISMATCH (the
   * partial file removed) or INFERENCE_MODEL_LOAD_FAILED when the disk fails; `source` names the
   * version in those errors. Returns the file's path.
   */
  store(key: CacheKey, chunks: AsyncIterable<Uint8Array>, source: string, size?: number): Promise<string>;
  /** Removes the cached versions of `name` other than `keep` (version numbers); failures are ignored. */
  retain(name: string, keep: readonly string[]): Promise<void>;
}

/**
 * A directory name for a model name: registry names may hold any character but `/` and control
 * characters, so everything outside `[A-Za-z0-9_-]` is percent-encoded (which also turns "." and
 * ".." into harmless names).
 */
function dirName(name: string): string {
  let out = "";
  for (const byte of Buffer.from(name, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

const sha256Pattern = /^[0-9a-f]{64}$/;

/** Creates a cache rooted at `root` (created when needed). */
export function createModelCache(root: string): ModelCache {
  const dirOf = (key: CacheKey): string => join(root, dirName(key.name), dirName(key.version));
  const fileOf = (key: CacheKey): string => {
    // The hash comes from the registry: checked before it becomes part of a path.
    if (!sha256Pattern.test(key.sha256)) throw new Error(`not a SHA-256: "${key.sha256}"`);
    return join(dirOf(key), `${key.sha256}.onnx`);
  };

  return {
    root,

    async find(key) {
      if (!sha256Pattern.test(key.sha256)) return undefined;
      const path = fileOf(key);
      const hash = createHash("sha256");
      try {
        for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
      } catch {
        return undefined;
      }
      if (hash.digest("hex") === key.sha256) return path;
      await rm(path, { force: true }).catch(() => {});
      return undefined;
    },

    async store(key, chunks, source, size) {
      if (!sha256Pattern.test(key.sha256)) {
        throw inferenceErrors.modelLoadFailed(source, `the registry gave no valid SHA-256 ("${key.sha256}")`);
      }
      const dir = dirOf(key);
      const final = fileOf(key);
      const temp = join(dir, `.${randomUUID()}.partial`);
      const hash = createHash("sha256");
      let written = 0;
      try {
        await mkdir(dir, { recursive: true });
        const file = await open(temp, "w");
        try {
          for await (const chunk of chunks) {
            hash.update(chunk);
            written += chunk.byteLength;
            await file.write(chunk);
          }
          await file.sync();
        } finally {
          await file.close();
        }
      } catch (err) {
        await rm(temp, { force: true }).catch(() => {});
        if (err instanceof Error && "code" in err && typeof err.code === "string") {
          throw inferenceErrors.modelLoadFailed(source, `cannot write the model cache (${err.code})`, err);
        }
        throw err;
      }
      const actual = hash.digest("hex");
      if (actual !== key.sha256 || (size !== undefined && written !== size)) {
        await rm(temp, { force: true }).catch(() => {});
        throw inferenceErrors.modelChecksumMismatch(source, key.sha256, `${actual} (${written} bytes)`);
      }
      try {
        await rename(temp, final);
      } catch (err) {
        await rm(temp, { force: true }).catch(() => {});
        throw inferenceErrors.modelLoadFailed(source, "cannot write the model cache", err);
      }
      return final;
    },

    async retain(name, keep) {
      const modelDir = join(root, dirName(name));
      const kept = new Set(keep.map(dirName));
      let entries: string[];
      try {
        entries = await readdir(modelDir);
      } catch {
        return;
      }
      await Promise.all(
        entries.filter((e) => !kept.has(e)).map((e) => rm(join(modelDir, e), { recursive: true, force: true })),
      ).catch(() => {});
    },
  };
}
