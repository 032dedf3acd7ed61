/**
 * The event-loop runner (INFERENCE_WORKERS=0 and cheap models) with real onnxruntime: the same
 * results and errors as the worker threads, sessions released on unload, close waiting for the
 * batch that runs; and the deferred worker pool that starts its threads with the first batch.
 */
import { rmSync } from "node:fs";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { inferenceErrors } from "../../core/errors/index.js";
import { irisBias, irisWeights, referenceProbabilities, writeTestModels } from "../../test/support/onnx-models.js";
import { view } from "../models/tensor-types.js";
import { createInlinePool } from "./inline-pool.js";
import { createDeferredWorkerPool } from "./worker-pool.js";
import type { RunTask } from "./worker-protocol.js";

const models = writeTestModels();
const logger = pino({ level: "silent" });
afterAll(() => rmSync(models.dir, { recursive: true, force: true }));

function task(rows: number[][], key = "iris@1", path = models.iris): RunTask {
  return {
    kind: "run",
    model: { key, path, source: "models:/iris/1" },
    inputName: "features",
    input: { dtype: "float32", shape: [rows.length, 4], data: Float32Array.from(rows.flat()).buffer },
    outputNames: ["label", "probabilities"],
  };
}

function probabilities(result: { outputs: readonly { data: ArrayBuffer }[] }): Float32Array {
  return view("float32", result.outputs[1]?.data ?? new ArrayBuffer(0)) as Float32Array;
}

describe("inline pool", () => {
  it("runs a batch on this thread with the worker threads' results", async () => {
    const pool = createInlinePool({ intraOpThreads: 1, logger });
    try {
      expect(pool.size).toBe(1);
      const result = await pool.run(
        task([
          [5.1, 3.5, 1.4, 0.2],
          [6.7, 3.0, 5.2, 2.3],
        ]),
      );
      expect(result.outputs.map((o) => [o.name, o.dtype, o.shape])).toEqual([
        ["label", "int64", [2]],
        ["probabilities", "float32", [2, 3]],
      ]);
      const p = probabilities(result);
      const want = referenceProbabilities(irisWeights, irisBias, [6.7, 3.0, 5.2, 2.3]);
      for (let c = 0; c < 3; c++) expect(p[3 + c]).toBeCloseTo(want[c] ?? Number.NaN, 4);
    } finally {
      await pool.close();
    }
  });

  it("applies a MODEL_HANDLER and turns its exception into INFERENCE_HANDLER_FAILED", async () => {
    const pool = createInlinePool({
      intraOpThreads: 1,
      handlerModule: new URL("../../test/fixtures/test-handler.ts", import.meta.url).href,
      logger,
    });
    try {
      const p = probabilities(await pool.run(task([[1000, 3.5, 1.4, 0.2]])));
      const want = referenceProbabilities(irisWeights, irisBias, [5.1, 3.5, 1.4, 0.2]);
      expect(p[0]).toBeCloseTo(want[0] ?? Number.NaN, 4);
      const err = await pool.run(task([[-998, 0, 0, 0]])).catch((e: unknown) => e);
      expect(inferenceErrors.handlerFailed.is(err)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it("names a model's source, not its path, when onnxruntime cannot load it", async () => {
    const pool = createInlinePool({ intraOpThreads: 1, logger });
    try {
      const err = await pool
        .run(task([[1, 2, 3, 4]], "missing", `${models.dir}/missing.onnx`))
        .catch((e: unknown) => e);
      expect(inferenceErrors.modelLoadFailed.is(err)).toBe(true);
      expect(err instanceof Error ? err.message : "").not.toContain(models.dir);
    } finally {
      await pool.close();
    }
  });

  it("loads a model again after unload; close waits for the batch that runs, then refuses batches", async () => {
    const pool = createInlinePool({ intraOpThreads: 1, logger });
    await pool.run(task([[5.1, 3.5, 1.4, 0.2]]));
    pool.unload("iris@1");
    const again = pool.run(task([[5.1, 3.5, 1.4, 0.2]]));
    let closed = false;
    const closing = pool.close().then(() => {
      closed = true;
    });
    const result = await again;
    expect(result.ok).toBe(true);
    await closing;
    expect(closed).toBe(true);
    const err = await pool.run(task([[5.1, 3.5, 1.4, 0.2]])).catch((e: unknown) => e);
    expect(inferenceErrors.workerFailed.is(err)).toBe(true);
  });
});

describe("deferred worker pool", () => {
  it("starts its threads with the first batch and refuses batches once closed", async () => {
    const pool = createDeferredWorkerPool({ workers: 1, intraOpThreads: 1, logger });
    expect(pool.size).toBe(1);
    pool.unload("nothing-loaded"); // before any thread exists: nothing to tell
    const p = probabilities(await pool.run(task([[5.1, 3.5, 1.4, 0.2]])));
    const want = referenceProbabilities(irisWeights, irisBias, [5.1, 3.5, 1.4, 0.2]);
    expect(p[0]).toBeCloseTo(want[0] ?? Number.NaN, 4);
    await pool.close();
    const err = await pool.run(task([[5.1, 3.5, 1.4, 0.2]])).catch((e: unknown) => e);
    expect(inferenceErrors.workerFailed.is(err)).toBe(true);
  });

  it("closes without ever starting", async () => {
    const pool = createDeferredWorkerPool({ workers: 2, intraOpThreads: 1, logger });
    await expect(pool.close()).resolves.toBeUndefined();
  });
});
