/**
 * Where a version's batches run (inline-choice.ts), with real onnxruntime on the event loop: the
 * small model of the tests runs inline; a bound it cannot meet, a bound of 0 or a file over the
 * size limit send it to the threads, and its event-loop session is released; and with a model
 * whose cost grows with its rows (a timer), only the request sizes timed under the bound stay inline.
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

const batch = 64;
const probe = (rows: number): RunTask => ({
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
  it("runs the small model inline: three untimed batches, five timed, then larger requests up to 65,536 rows", async () => {
    const r = recording();
    try {
      // 500 µs is the default bound; a 64-row batch of this model takes about 50 µs, 65,536 rows
      // about 11 ms. A generous bound keeps a loaded test machine from deciding otherwise.
      const choice = await chooseInline(execution(r.pool, 200_000), probe, batch, 1000);
      expect(choice.inline).toBe(true);
      expect(choice.batchUs).toBeGreaterThan(0);
      expect(choice.batchUs).toBeLessThan(200_000);
      expect(choice.maxRows).toBe(65_536);
      // 3 + 5, then 256, 1024, 4096, 16384 and 65536 rows twice each
      expect(r.runs).toBe(3 + 5 + 5 * 2);
      expect(r.unloaded).toEqual([]);
    } finally {
      await r.close();
    }
  });

  it("sends a version to the threads when its batch is over the bound, after one timed batch over 4x, and releases its session", async () => {
    const r = recording();
    try {
      const choice = await chooseInline(execution(r.pool, 0.001), probe, batch, 1000);
      expect(choice).toMatchObject({ inline: false, maxRows: 0 });
      expect(choice.batchUs).toBeGreaterThan(0.004);
      expect(r.runs).toBe(3 + 1);
      expect(r.unloaded).toEqual(["iris@1#1"]);
    } finally {
      await r.close();
    }
  });

  it("does not try a file over the size limit, nor anything with a bound of 0", async () => {
    const r = recording();
    try {
      const none = { inline: false, batchUs: undefined, maxRows: 0 };
      expect(await chooseInline(execution(r.pool, 500, 999), probe, batch, 1000)).toEqual(none);
      expect(await chooseInline(execution(r.pool, 0), probe, batch, 1000)).toEqual(none);
      expect(r.runs).toBe(0);
    } finally {
      await r.close();
    }
  });

  it("throws when the model cannot run, as a failed warm-up", async () => {
    const r = recording();
    try {
      const broken = (rows: number): RunTask => ({
        ...probe(rows),
        model: { key: "x", path: `${models.dir}/none.onnx`, source: "x" },
      });
      await expect(chooseInline(execution(r.pool, 500), broken, batch, 1000)).rejects.toMatchObject({
        id: "INFERENCE_MODEL_LOAD_FAILED",
      });
    } finally {
      await r.close();
    }
  });

  it("keeps on the event loop only the request sizes timed under the bound", async () => {
    // A model whose run takes 1 ms per 64 rows (a timer): 64 and 256 rows are under 10 ms, 1024 are not.
    const sizes: number[] = [];
    const slow: WorkerPool = {
      size: 1,
      runsOn: "event loop",
      run: async (task) => {
        const rows = task.input.shape[0] ?? 0;
        sizes.push(rows);
        await new Promise((resolve) => setTimeout(resolve, rows / 64));
        return { ok: true, outputs: [] };
      },
      unload: () => undefined,
      close: async () => undefined,
    };
    const choice = await chooseInline(execution(slow, 10_000), probe, batch, 1000);
    expect(choice).toMatchObject({ inline: true, maxRows: 256 });
    // the 1024-row size stopped at its first run, over the bound: the loop was held once
    expect(sizes.filter((n) => n === 1024)).toHaveLength(1);
    expect(sizes.filter((n) => n > 1024)).toEqual([]);
  });
});
