import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeTestModels } from "../../test/support/onnx-models.js";
import { runProcess } from "../../test/support/run-process.js";

const wrapper = join(import.meta.dirname, "onnxruntime.ts");

/** Runs a session through the wrapper in a fresh process; prints the variable and the pid. */
async function sessionIn(env: NodeJS.ProcessEnv): Promise<{ value: string; pid: number }> {
  const model = writeTestModels().iris;
  const script = [
    `const { ort } = await import(${JSON.stringify(wrapper)});`,
    `await ort.InferenceSession.create(${JSON.stringify(model)});`,
    "console.log(JSON.stringify({ value: process.env.ORT_DISABLE_TELEMETRY ?? '', pid: process.pid }));",
  ].join("\n");
  const result = await runProcess(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    env,
    timeoutMs: 60_000,
  });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as { value: string; pid: number };
}

describe("onnxruntime as mlpipe loads it", () => {
  it("turns onnxruntime's telemetry off before the first session, so it writes nothing", async () => {
    const env = { ...process.env };
    delete env.ORT_DISABLE_TELEMETRY;
    const { value, pid } = await sessionIn(env);
    expect(value).toBe("1");
    // What onnxruntime's telemetry writes per process when it is on (always to /tmp).
    expect(existsSync(`/tmp/mat-debug-${pid}.log`)).toBe(false);
  });

  it("keeps the value a user set", async () => {
    const { value } = await sessionIn({ ...process.env, ORT_DISABLE_TELEMETRY: "0" });
    expect(value).toBe("0");
  });
});
