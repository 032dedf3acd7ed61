import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runProcess } from "../test/support/run-process.js";

const child = fileURLToPath(new URL("../test/fixtures/process-fault-server.ts", import.meta.url));

/** The JSON log lines and the metrics line a child printed. */
function parseOutput(stdout: string): { logs: Record<string, unknown>[]; metrics: unknown } {
  const logs: Record<string, unknown>[] = [];
  let metrics: unknown;
  for (const line of stdout.split("\n")) {
    if (line.startsWith("METRICS ")) metrics = JSON.parse(line.slice("METRICS ".length));
    else if (line.startsWith("{")) logs.push(JSON.parse(line) as Record<string, unknown>);
  }
  return { logs, metrics };
}

describe("process fault policy (a server process's last resort)", () => {
  it("logs and counts an unhandled rejection and keeps serving; logs an uncaught exception and exits 1", async () => {
    const result = await runProcess(process.execPath, ["--import", import.meta.resolve("tsx"), child], {
      timeoutMs: 60_000,
    });
    const { logs, metrics } = parseOutput(result.stdout);

    const rejection = logs.find((l) => l.fault === "unhandled_rejection");
    expect(rejection).toMatchObject({ level: "error", err: { message: "forgotten rejection" } });
    // Still running after the rejection: it printed its metrics, which count that one fault.
    expect(metrics).toEqual([
      expect.objectContaining({
        name: "process_faults_total",
        values: [
          expect.objectContaining({ labels: { kind: "unhandled_rejection" }, value: 1 }),
          expect.objectContaining({ labels: { kind: "uncaught_exception" }, value: 0 }),
        ],
      }),
    ]);
    const exception = logs.find((l) => l.fault === "uncaught_exception");
    expect(exception).toMatchObject({ level: "fatal", err: { message: "thrown outside any handler" } });
    expect(result.status).toBe(1);
  });
});
