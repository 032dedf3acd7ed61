import { open, readFile, rm } from "node:fs/promises";

/** Another live process (or another client in this one) holds the embedded database directory. */
export class DataDirInUseError extends Error {
  override readonly name = "DataDirInUseError";
}

/** A held lock on a data directory; release it when the database is closed. */
export interface DataDirLock {
  release(): Promise<void>;
}

const heldHere = new Set<string>();

/**
 * Takes the lock file `<dir>.lock` beside the directory (exclusive create, holding the owner's
 * pid; beside rather than inside, so the database directory holds nothing but PGlite's files) so that two
 * processes never open the same embedded PGlite database: PGlite has no locking of its own, and
 * two writers would corrupt it. A lock left by a process that no longer runs is taken over.
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const path = `${dir.replace(/\/+$/, "")}.lock`;
  if (heldHere.has(path)) throw new DataDirInUseError(`the database directory ${dir} is already open in this process`);
  for (let attempt = 0; ; attempt++) {
    try {
      const file = await open(path, "wx");
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      break;
    } catch (err) {
      if (!(err instanceof Error && "code" in err && err.code === "EEXIST") || attempt > 0) throw err;
      const owner = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new DataDirInUseError(
          `the database directory ${dir} is in use by process ${owner}; stop it, or point MLPIPE_DATA_DIR elsewhere`,
        );
      }
      await rm(path, { force: true });
    }
  }
  heldHere.add(path);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      heldHere.delete(path);
      await rm(path, { force: true });
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return err instanceof Error && "code" in err && err.code === "EPERM";
  }
}
