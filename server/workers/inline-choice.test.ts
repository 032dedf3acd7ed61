/**
 * Where a version's batches run (inline-choice.ts), with real onnxruntime on the event loop: the
 * small model of the tests runs inline under the default bound; a bound it cannot meet, a bound of
 * 0 or a file over the size limit send it to the threads, and its event-loop session is released.
 */
import { rmSync } from "node:fs";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { writeTestModels } from "../../test/support/onnx-models.js";
import { chooseInline, type InlineExecution } from "./inline-choice.js";
import { createInlinePool } from "./inline-pool.js";
import type { WorkerPool } from "./worker-pool.js";
import type { RunTask } from "./worker-protocol.js";

const models = writeTestModels();
const logger = pino({ level: "silent" });
afterAll(() => rmSync(models.dir, { recursive: true, force: true }));

const rows = 64;
const probe = (): RunTask => ({
  kind: "run",
  model: { key: "iris@1#1", path: models.iris, source: "models:/iris/1" },
  inputName: "features",
  input: { dtype: "float32", shape: [rows, 4], data: new ArrayBuffer(rows * 4 * 4) },
  outputNames: ["label", "probabilities"],
});

/** An inline pool that records what it was asked. */
function recording(): { pool: WorkerPool; runs: number; unloaded: string[]; close(): Promise<void> } {
  const inner = createInlinePool({ intraOpThreads: 1, logger });
  const record = {
    runs: 0,
    unloaded: [] as string[],
    pool: {
      size: 1,
      runsOn: "event loop",
      run: (task: RunTask) => {
        record.runs++;
        return inner.run(task);
      },
      unload: (key: string) => {
        record.unloaded.push(key);
        inner.unload(key);
      },
      close: () => inner.close(),
    } satisfies WorkerPool,
    close: () => inner.close(),
  };
  return record;
}

const execution = (pool: WorkerPool, maxBatchUs: number, maxFileBytes = 8 << 20): InlineExecution => ({
  pool,
  maxBatchUs,
  maxFileBytes,
});

describe("chooseInline", () => {
  it("runs the small model inline: one untimed batch, then five timed, fastest under the bound", async () => {
    const r = recording();
    try {
      // 500 µs is the default bound; a 64-row batch of this model takes a few µs plus a loop turn.
      // A generous bound keeps a loaded test machine from deciding otherwise.
      const choice = await chooseInline(execution(r.pool, 100_000), probe, 1000);
      expect(choice.inline).toBe(true);
      expect(choice.batchUs).toBeGreaterThan(0);
      expect(choice.batchUs).toBeLessThan(100_000);
      expect(r.runs).toBe(6);
      expect(r.unloaded).toEqual([]);
    } finally {
      await r.close();
    }
  });

  it("sends a version to the threads when its batch is over the bound, after one timed batch over 4x, and releases its session", async () => {
    const r = recording();
    try {
      const choice = await chooseInline(execution(r.pool, 0.001), probe, 1000);
      expect(choice.inline).toBe(false);
      expect(choice.batchUs).toBeGreaterThan(0.004);
      expect(r.runs).toBe(2);
      expect(r.unloaded).toEqual(["iris@1#1"]);
    } finally {
      await r.close();
    }
  });

  it("does not try a file over the size limit, nor anything with a bound of 0", async () => {
    const r = recording();
    try {
      expect(await chooseInline(execution(r.pool, 500, 999), probe, 1000)).toEqual({
        inline: false,
        batchUs: undefined,
      });
      expect(await chooseInline(execution(r.pool, 0), probe, 1000)).toEqual({ inline: false, batchUs: undefined });
      expect(r.runs).toBe(0);
    } finally {
      await r.close();
    }
  });

  it("throws when the model cannot run, as a failed warm-up", async () => {
    const r = recording();
    try {
      const broken = (): RunTask => ({ ...probe(), model: { key: "x", path: `${models.dir}/none.onnx`, source: "x" } });
      await expect(chooseInline(execution(r.pool, 500), broken, 1000)).rejects.toMatchObject({
        id: "INFERENCE_MODEL_LOAD_FAILED",
      });
    } finally {
      await r.close();
    }
  });
});
