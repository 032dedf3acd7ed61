import { availableParallelism } from "node:os";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { inferenceErrors } from "../../core/errors/index.js";
import { irisBias, irisWeights, referenceProbabilities, writeTestModels } from "../../test/support/onnx-models.js";
import { view } from "../models/tensor-types.js";
import { createWorkerPool } from "./worker-pool.js";
import type { RunTask } from "./worker-protocol.js";

const models = writeTestModels();
const logger = pino({ level: "silent" });
let failures = 0;
const pool = createWorkerPool({
  workers: Math.min(2, availableParallelism()),
  intraOpThreads: 1,
  handlerModule: new URL("../../test/fixtures/test-handler.ts", import.meta.url).href,
  logger,
  onWorkerFailure: () => failures++,
});
afterAll(() => pool.close());

function task(rows: number[][]): RunTask {
  const input = Float32Array.from(rows.flat());
  return {
    kind: "run",
    model: { key: "iris@1", path: models.iris, source: "models:/iris/1" },
    inputName: "features",
    input: { dtype: "float32", shape: [rows.length, 4], data: input.buffer },
    outputNames: ["label", "probabilities"],
  };
}

describe("worker pool (real onnxruntime in worker threads)", () => {
  it("runs a batch and transfers the buffers both ways", async () => {
    const rows = [
      [5.1, 3.5, 1.4, 0.2],
      [1000, 3.5, 1.4, 0.2],
    ];
    const t = task(rows);
    const result = await pool.run(t);
    expect(t.input.data.byteLength).toBe(0); // transferred, not copied
    const [label, probs] = result.outputs;
    expect(label).toMatchObject({ name: "label", dtype: "int64", shape: [2] });
    expect(probs).toMatchObject({ name: "probabilities", dtype: "float32", shape: [2, 3] });
    const p = view("float32", probs?.data ?? new ArrayBuffer(0));
    const want = referenceProbabilities(irisWeights, irisBias, [5.1, 3.5, 1.4, 0.2]);
    // the handler replaced 1000 by 5.1, so both rows agree with the reference
    for (const r of [0, 1]) for (let c = 0; c < 3; c++) expect(p[r * 3 + c]).toBeCloseTo(want[c] ?? Number.NaN, 4);
  });

  it("turns a handler exception into INFERENCE_HANDLER_FAILED", async () => {
    await expect(pool.run(task([[-998, 0, 0, 0]]))).rejects.toSatisfy((e: unknown) =>
      inferenceErrors.handlerFailed.is(e),
    );
  });

  it("fails only the batch of a dying worker and replaces the worker", async () => {
    const before = failures;
    const dying = pool.run(task([[-999, 0, 0, 0]]));
    const healthy = Array.from({ length: 4 }, () => pool.run(task([[5.1, 3.5, 1.4, 0.2]])));
    await expect(dying).rejects.toSatisfy((e: unknown) => inferenceErrors.workerFailed.is(e));
    for (const h of healthy) await expect(h).resolves.toMatchObject({ ok: true });
    expect(failures).toBe(before + 1);
    // the replacement serves: more batches than workers all succeed
    const after = await Promise.all(Array.from({ length: 6 }, () => pool.run(task([[5.1, 3.5, 1.4, 0.2]]))));
    expect(after.every((r) => r.ok)).toBe(true);
  });

  it("reports a model onnxruntime cannot load as INFERENCE_MODEL_LOAD_FAILED, naming its source, not its path", async () => {
    const model = { key: "missing", path: `${models.dir}/missing.onnx`, source: "models:/missing/1" };
    const err = await pool.run({ ...task([[1, 2, 3, 4]]), model }).catch((e: unknown) => e);
    expect(inferenceErrors.modelLoadFailed.is(err)).toBe(true);
    expect(err instanceof Error ? err.message : "").toBe(
      "cannot load model from models:/missing/1: onnxruntime cannot create a session",
    );
  });
});

describe("worker pool with a MODEL_HANDLER that cannot be imported", () => {
  it("answers INFERENCE_HANDLER_FAILED without the module's path, which goes to the log", async () => {
    const lines: Record<string, unknown>[] = [];
    const missing = `${models.dir}/no-such-handler.mjs`;
    const badPool = createWorkerPool({
      workers: 1,
      intraOpThreads: 1,
      handlerModule: missing,
      logger: pino({ level: "warn" }, { write: (line: string) => lines.push(JSON.parse(line)) }),
    });
    try {
      const err = await badPool.run(task([[5.1, 3.5, 1.4, 0.2]])).catch((e: unknown) => e);
      expect(inferenceErrors.handlerFailed.is(err)).toBe(true);
      expect(err instanceof Error ? err.message : "").toBe(
        "the model handler's import failed: the module cannot be loaded (details are in the server log)",
      );
      expect(lines.map((l) => [l.msg, String(l.detail).includes(missing)])).toEqual([["inference batch failed", true]]);
    } finally {
      await badPool.close();
    }
  });
});

describe("worker pool with a plain JavaScript handler module", () => {
  it("loads an .mjs MODEL_HANDLER with import() and applies its postprocess", async () => {
    const jsPool = createWorkerPool({
      workers: 1,
      intraOpThreads: 1,
      handlerModule: new URL("../../test/fixtures/negate-handler.mjs", import.meta.url).pathname,
      logger,
    });
    try {
      const result = await jsPool.run(task([[5.1, 3.5, 1.4, 0.2]]));
      const probs = view("float32", result.outputs[1]?.data ?? new ArrayBuffer(0));
      const want = referenceProbabilities(irisWeights, irisBias, [5.1, 3.5, 1.4, 0.2]);
      expect(probs[0]).toBeCloseTo(1 - (want[0] ?? 0), 4);
    } finally {
      await jsPool.close();
    }
  });
});
