import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DataDirInUseError, lockDataDir } from "./data-dir-lock.js";
import { createPgliteClient } from "./pglite-client.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "mlpipe-lock-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(`${dir}.lock`, { force: true });
});

describe("lockDataDir", () => {
  it("refuses a second holder in this process until the first releases", async () => {
    const lock = await lockDataDir(dir);
    expect(await readFile(`${dir}.lock`, "utf8")).toBe(`${process.pid}\n`);
    await expect(lockDataDir(dir)).rejects.toThrow(DataDirInUseError);
    await lock.release();
    const again = await lockDataDir(dir);
    await again.release();
  });

  it("refuses a directory held by another live process, naming it", async () => {
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      await writeFile(`${dir}.lock`, `${child.pid}\n`);
      await expect(lockDataDir(dir)).rejects.toThrow(`in use by process ${child.pid}`);
    } finally {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
    // Its owner is gone now: the stale lock is taken over.
    const lock = await lockDataDir(dir);
    await lock.release();
  });

  it("is held by an open PGlite client and released when it closes", async () => {
    const client = await createPgliteClient(join(dir, "db"));
    await expect(createPgliteClient(join(dir, "db"))).rejects.toThrow(DataDirInUseError);
    await client.close();
    const reopened = await createPgliteClient(join(dir, "db"));
    expect((await reopened.query<{ one: number }>("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    await reopened.close();
  });
});
