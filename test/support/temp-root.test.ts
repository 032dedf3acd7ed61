import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";

describe("the test run's temporary directory (temp-root.ts)", () => {
  it("is where os.tmpdir() points in a test worker, so the run's end removes what tests create", () => {
    expect(basename(tmpdir())).toMatch(/^mlpipe-test-run-/);
    const dir = mkdtempSync(join(tmpdir(), "mlpipe-probe-"));
    expect(dirname(dir)).toBe(tmpdir());
    // Open to every user like /tmp (sticky): PostgreSQL runs as `postgres` under root.
    expect(statSync(tmpdir()).mode & 0o7777).toBe(0o1777);
  });
});
