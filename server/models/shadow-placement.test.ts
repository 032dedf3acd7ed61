/**
 * Where the requests mirrored to a version (shadow traffic) run: on the event loop when the
 * version's own batches do, else on the shadow pool, never on the serving threads, where they
 * would queue before the requests being answered. The shadow pool's thread runs at the lowest CPU
 * priority (Linux). Real onnxruntime throughout.
 */
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { inferenceErrors } from "../../core/errors/index.js";
import { createLogger } from "../../core/logger.js";
import { captureLog } from "../../test/support/captured-log.js";
import { writeTestModels } from "../../test/support/onnx-models.js";
import { createInferenceMetrics } from "../inference-metrics.js";
import { createInlinePool } from "../workers/inline-pool.js";
import { currentThreadId, lowestPriority } from "../workers/thread-priority.js";
import { createDeferredWorkerPool, type WorkerPool } from "../workers/worker-pool.js";
import { createMemoryBudget } from "./memory-budget.js";
import { createLocalFileLoader } from "./model-loader.js";
import { createModelManager, type LoadedModel, type RowsOutput } from "./model-manager.js";

const models = writeTestModels();
afterAll(() => rmSync(models.dir, { recursive: true, force: true }));

const logger = createLogger({ level: "silent" });
const batching = { maxBatchSize: 8, maxQueueDelayUs: 0, maxQueueRows: 64 };

/** `pool` counting its batches and the keys it was told to unload. */
function counted(pool: WorkerPool) {
  const seen = { runs: 0, unloaded: [] as string[] };
  const wrapped: WorkerPool = {
    size: pool.size,
    runsOn: pool.runsOn,
    run: (task) => {
      seen.runs++;
      return pool.run(task);
    },
    unload: (key) => {
      seen.unloaded.push(key);
      pool.unload(key);
    },
    close: (force) => pool.close(force),
  };
  return { pool: wrapped, seen };
}

/** The predicted class of a one-row answer of the iris classifier. */
function label(out: RowsOutput): number {
  const t = out.get("label");
  if (t === undefined) throw new Error("no label output");
  return Number(new BigInt64Array(t.data)[0]);
}

const setosa = () => ({ rows: 1, input: { data: new Float32Array([5.1, 3.5, 1.4, 0.2]), rows: 1 } });

/** Nice values of this process's threads (Linux), by thread id. */
function threadNiceness(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    // Fields after the command name: state is field 3, nice field 19.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out.set(Number(tid), Number(fields[16]));
  }
  return out;
}

describe("requests mirrored to a version", () => {
  it("run on the shadow pool when the version runs on the threads, and the pool unloads it at retirement", async () => {
    const threads = counted(createDeferredWorkerPool({ workers: 1, intraOpThreads: 1, logger }));
    const shadow = counted(
      createDeferredWorkerPool({ workers: 1, intraOpThreads: 1, logger, niceness: lowestPriority }),
    );
    const manager = createModelManager({
      name: "iris",
      pool: threads.pool,
      shadowPool: shadow.pool,
      metrics: createInferenceMetrics(),
      logger,
      batching,
    });
    try {
      const loaded: LoadedModel = await manager.swap(createLocalFileLoader({ path: models.iris, name: "iris" }));
      expect(loaded.shadowBatcher).not.toBe(loaded.batcher);
      const served = threads.seen.runs; // the warm-up
      expect(label(await loaded.shadowBatcher.submit(setosa()))).toBe(0);
      expect(shadow.seen.runs).toBe(1);
      expect(threads.seen.runs).toBe(served);
      expect(label(await loaded.batcher.submit(setosa()))).toBe(0);
      expect(threads.seen.runs).toBe(served + 1);
      expect(shadow.seen.runs).toBe(1);
      await manager.close();
      expect(shadow.seen.unloaded).toEqual([loaded.key]);
    } finally {
      await manager.close();
      await threads.pool.close();
      await shadow.pool.close();
    }
  });

  it("run on the event loop when the version does", async () => {
    const threads = counted(createDeferredWorkerPool({ workers: 1, intraOpThreads: 1, logger }));
    const inline = counted(createInlinePool({ intraOpThreads: 1, logger }));
    const shadow = counted(createDeferredWorkerPool({ workers: 1, intraOpThreads: 1, logger }));
    const metrics = createInferenceMetrics();
    const manager = createModelManager({
      name: "iris",
      pool: threads.pool,
      // A bound no batch of the iris model comes near: the version runs on the event loop.
      inline: { pool: inline.pool, maxBatchUs: 1_000_000, maxFileBytes: 1 << 20 },
      shadowPool: shadow.pool,
      metrics,
      logger,
      batching,
    });
    try {
      const loaded = await manager.swap(createLocalFileLoader({ path: models.iris, name: "iris" }));
      expect((await metrics.runsOnEventLoop.get()).values).toMatchObject([
        { labels: { model: "iris", version: "1" }, value: 1 },
      ]);
      const timed = inline.seen.runs;
      expect(label(await loaded.shadowBatcher.submit(setosa()))).toBe(0);
      expect(inline.seen.runs).toBe(timed + 1);
      expect(shadow.seen.runs).toBe(0);
      expect(threads.seen.runs).toBe(0);
    } finally {
      await manager.close();
      await Promise.all([threads.pool.close(), inline.pool.close(), shadow.pool.close()]);
    }
  });

  it("reserve the shadow session's memory before the first, and fail as too large when it does not fit", async () => {
    const fileBytes = statSync(models.iris).size;
    for (const fits of [true, false]) {
      const log = captureLog();
      const logged = createLogger({ level: "warn", destination: log.destination });
      const oneSession = createMemoryBudget({ limitBytes: undefined, workers: 1 }).estimate(fileBytes);
      // Room for the serving thread's session, and for the shadow thread's only when `fits`.
      const budget = createMemoryBudget({ limitBytes: oneSession * (fits ? 2 : 1.5), workers: 1 });
      const threads = createDeferredWorkerPool({ workers: 1, intraOpThreads: 1, logger });
      const shadow = counted(createDeferredWorkerPool({ workers: 1, intraOpThreads: 1, logger }));
      const manager = createModelManager({
        name: "iris",
        pool: threads,
        shadowPool: shadow.pool,
        budget,
        metrics: createInferenceMetrics(),
        logger: logged,
        batching,
      });
      try {
        const loaded = await manager.swap(createLocalFileLoader({ path: models.iris, name: "iris" }));
        expect(budget.usedBytes).toBe(oneSession);
        if (fits) {
          expect(label(await loaded.shadowBatcher.submit(setosa()))).toBe(0);
          expect(label(await loaded.shadowBatcher.submit(setosa()))).toBe(0);
          expect(budget.usedBytes).toBe(2 * oneSession);
        } else {
          for (let i = 0; i < 2; i++) {
            const err = await loaded.shadowBatcher.submit(setosa()).catch((e: unknown) => e);
            expect(inferenceErrors.modelTooLarge.is(err)).toBe(true);
          }
          expect(shadow.seen.runs).toBe(0);
          expect(budget.usedBytes).toBe(oneSession);
          expect(log.lines.filter((l) => String(l.msg).includes("shadow thread's session"))).toHaveLength(1);
          // Serving is untouched.
          expect(label(await loaded.batcher.submit(setosa()))).toBe(0);
        }
        await manager.close();
        expect(budget.usedBytes).toBe(0);
      } finally {
        await manager.close();
        await Promise.all([threads.close(), shadow.pool.close()]);
      }
    }
  });

  it("are the version's own requests without a shadow pool", async () => {
    const threads = createDeferredWorkerPool({ workers: 1, intraOpThreads: 1, logger });
    const manager = createModelManager({
      name: "iris",
      pool: threads,
      metrics: createInferenceMetrics(),
      logger,
      batching,
    });
    try {
      const loaded = await manager.swap(createLocalFileLoader({ path: models.iris, name: "iris" }));
      expect(loaded.shadowBatcher).toBe(loaded.batcher);
    } finally {
      await manager.close();
      await threads.close();
    }
  });
});

describe.runIf(currentThreadId() !== undefined)("the shadow pool's thread", () => {
  it("runs at the lowest CPU priority, and the calling thread keeps its own", async () => {
    const self = currentThreadId() as number;
    const before = threadNiceness();
    const shadow = createDeferredWorkerPool({ workers: 1, intraOpThreads: 1, logger, niceness: lowestPriority });
    const threads = createDeferredWorkerPool({ workers: 1, intraOpThreads: 1, logger });
    const manager = createModelManager({
      name: "iris",
      pool: threads,
      shadowPool: shadow,
      metrics: createInferenceMetrics(),
      logger,
      batching,
    });
    try {
      const loaded = await manager.swap(createLocalFileLoader({ path: models.iris, name: "iris" }));
      await loaded.shadowBatcher.submit(setosa());
      const after = threadNiceness();
      const lowered = [...after].filter(([tid, nice]) => nice === lowestPriority && before.get(tid) !== lowestPriority);
      expect(lowered.length).toBeGreaterThanOrEqual(1);
      expect(after.get(self)).toBe(before.get(self));
    } finally {
      await manager.close();
      await Promise.all([threads.close(), shadow.close()]);
    }
  });
});
