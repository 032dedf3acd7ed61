import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startChildServer } from "./child-server.js";

describe("startChildServer", () => {
  it("starts the server with a minimal environment and stops it", async () => {
    const seen = join(mkdtempSync(join(tmpdir(), "mlpipe-child-")), "env");
    const read = (): string => {
      try {
        return readFileSync(seen, "utf8");
      } catch {
        return "";
      }
    };
    const server = await startChildServer({
      executable: "/bin/sh",
      script: "-c",
      args: ['echo "user=$USER extra=$EXTRA home=$HOME" > "$SEEN"; exec sleep 30'],
      env: { EXTRA: "yes", SEEN: seen },
      ready: async () => read().endsWith("\n"),
      timeoutMs: 10_000,
    });
    try {
      expect(read()).toBe(`user= extra=yes home=${process.env.HOME ?? "/tmp"}\n`);
    } finally {
      await server.stop(2000);
    }
    expect(server.process.signalCode).toBe("SIGTERM");
  });
});
