/**
 * The local cache of model files downloaded from the registry:
 * `<root>/<name>/<version>/<sha256>.onnx` (root is `<MLPIPE_DATA_DIR>/model-cache`). A file gets
 * its final name only after its content matched the registry's SHA-256 (written to a temporary
 * file, then renamed, so a crash never leaves a partial file under a final name). The hash in the
 * name ties the file to the content the registry described: a model deleted and registered again
 * under the same name and version number gets a new file, never the old one.
 *
 * Several processes share the directory (`mlpipe serve` forks one per core, each with its own
 * caches), and each evicts the versions it no longer serves, which another may still be
 * downloading or using. So each cache works in a directory of its own,
 * `<root>/.cache-<pid>-<id>/<name>/<version>/`: it writes its temporary files there and loads
 * from a hard link there to the shared file, which another process's eviction (removing the shared
 * name) cannot take away. The shared names are only for reuse (after a restart, by a sibling). A
 * cache's own directory goes when it evicts the version, and a dead process's at the next eviction
 * by any cache. (Names under the root starting with "." are never model directories: `dirName`
 * encodes ".".)
 */
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { link, mkdir, open, readdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
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
   * undefined otherwise, after removing a file that no longer matches. The path is this cache's own
   * link to it (see the module comment).
   */
  find(key: CacheKey): Promise<string | undefined>;
  /**
   * Writes `chunks` under `key`, hashing as it goes, and gives the file its final name only when
   * the hash (and `size`, when given) match. Rejects with INFERENCE_MODEL_CHECKSUM_MISMATCH (the
   * partial file removed) or INFERENCE_MODEL_LOAD_FAILED when the disk fails; `source` names the
   * version in those errors. Returns the path of this cache's own link to the file.
   */
  store(key: CacheKey, chunks: AsyncIterable<Uint8Array>, source: string, size?: number): Promise<string>;
  /**
   * Removes the cached versions of `name` other than `keep` (version numbers) and those being stored
   * or found now, from the shared names and this cache's links, and the directories of caches whose
   * process is gone; failures are ignored.
   */
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

/** The private directories of caches: `.cache-<pid>-<id>`. */
const privatePattern = /^\.cache-(\d+)-([0-9a-f-]+)$/;

/** Ids of the caches alive in this process (a private directory with this pid and another id is a previous process's). */
const liveIds = new Set<string>();

/** Whether a process with this pid runs (signal 0 only checks; EPERM means it runs as someone else). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err instanceof Error && "code" in err && err.code === "EPERM";
  }
}

/** Whether a private directory name belongs to no live cache: its process is gone, or it is this pid's from before. */
function isStale(entry: string): boolean {
  const match = privatePattern.exec(entry);
  if (match === null) return false;
  const pid = Number(match[1]);
  if (pid === process.pid) return !liveIds.has(match[2] ?? "");
  return !processAlive(pid);
}

/** A file-system error's code, or undefined. */
function errorCode(err: unknown): string | undefined {
  return err instanceof Error && "code" in err && typeof err.code === "string" ? err.code : undefined;
}

/** Creates a cache rooted at `root` (created when needed). */
export function createModelCache(root: string): ModelCache {
  const id = randomUUID();
  liveIds.add(id);
  const own = join(root, `.cache-${process.pid}-${id}`);
  const dirOf = (base: string, key: CacheKey): string => join(base, dirName(key.name), dirName(key.version));
  const fileOf = (base: string, key: CacheKey): string => {
    // The hash comes from the registry: checked before it becomes part of a path.
    if (!sha256Pattern.test(key.sha256)) throw new Error(`not a SHA-256: "${key.sha256}"`);
    return join(dirOf(base, key), `${key.sha256}.onnx`);
  };
  /** Versions being stored or found now, per name: never evicted from the own directory meanwhile. */
  const busy = new Map<string, Map<string, number>>();
  async function whileBusy<T>(key: CacheKey, work: () => Promise<T>): Promise<T> {
    const versions = busy.get(key.name) ?? new Map<string, number>();
    busy.set(key.name, versions);
    versions.set(key.version, (versions.get(key.version) ?? 0) + 1);
    try {
      return await work();
    } finally {
      const n = (versions.get(key.version) ?? 1) - 1;
      if (n > 0) versions.set(key.version, n);
      else versions.delete(key.version);
    }
  }

  /**
   * Links `from` as `to` (creating its directory), atomically replacing what `to` held: a worker
   * opening `to` meanwhile sees the old file or the new one, never none.
   */
  async function linkAs(from: string, to: string): Promise<void> {
    const dir = dirname(to);
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.${randomUUID()}.link`);
    try {
      await link(from, temp);
      await rename(temp, to);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => {});
      throw err;
    }
  }

  return {
    root,

    find(key) {
      if (!sha256Pattern.test(key.sha256)) return Promise.resolve(undefined);
      return whileBusy(key, async () => {
        const shared = fileOf(root, key);
        const mine = fileOf(own, key);
        // Linked first, then hashed: the link holds the content even if another process evicts
        // the shared name meanwhile.
        try {
          await linkAs(shared, mine);
        } catch {
          return undefined;
        }
        const hash = createHash("sha256");
        try {
          for await (const chunk of createReadStream(mine)) hash.update(chunk as Buffer);
        } catch {
          await rm(mine, { force: true }).catch(() => {});
          return undefined;
        }
        if (hash.digest("hex") === key.sha256) return mine;
        await Promise.all([rm(mine, { force: true }), rm(shared, { force: true })]).catch(() => {});
        return undefined;
      });
    },

    store(key, chunks, source, size) {
      if (!sha256Pattern.test(key.sha256)) {
        return Promise.reject(
          inferenceErrors.modelLoadFailed(source, `the registry gave no valid SHA-256 ("${key.sha256}")`),
        );
      }
      return whileBusy(key, async () => {
        const dir = dirOf(own, key);
        const final = fileOf(own, key);
        const temp = join(dir, `.${randomUUID()}.partial`);
        const hash = createHash("sha256");
        let written = 0;
        try {
          await mkdir(dir, { recursive: true });
          await mkdir(dirOf(root, key), { recursive: true });
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
          const code = errorCode(err);
          if (code !== undefined) {
            throw inferenceErrors.modelLoadFailed(source, `cannot write the model cache (${code})`, err);
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
        // Shared for reuse, atomically (a sibling never sees a partial file). Best effort: a sibling
        // evicting the version meanwhile only costs a later download.
        await linkAs(final, fileOf(root, key)).catch(() => {});
        return final;
      });
    },

    async retain(name, keep) {
      const kept = new Set(keep.map(dirName));
      for (const version of busy.get(name)?.keys() ?? []) kept.add(dirName(version));
      const evict = async (modelDir: string): Promise<void> => {
        let entries: string[];
        try {
          entries = await readdir(modelDir);
        } catch {
          return;
        }
        await Promise.all(
          entries.filter((e) => !kept.has(e)).map((e) => rm(join(modelDir, e), { recursive: true, force: true })),
        );
      };
      let stale: string[] = [];
      try {
        stale = (await readdir(root)).filter(isStale);
      } catch {
        // No root yet: nothing cached.
      }
      await Promise.all([
        evict(join(root, dirName(name))),
        evict(join(own, dirName(name))),
        ...stale.map((e) => rm(join(root, e), { recursive: true, force: true })),
      ]).catch(() => {});
    },
  };
}
