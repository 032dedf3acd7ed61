/**
 * A version first timed on a busy event loop (its runs slowed by other work) is served by the
 * worker threads, timed again later, and moved to the event loop once it fits; a retired version
 * is not timed again. Real onnxruntime on both sides; the "busy loop" is a delay added to the
 * event-loop runner's first runs.
 */
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../core/logger.js";
import { captureLog } from "../../test/support/captured-log.js";
import { until } from "../../test/support/inference-test-harness.js";
import { writeTestModels } from "../../test/support/onnx-models.js";
import { createInferenceMetrics } from "../inference-metrics.js";
import { createInlinePool } from "../workers/inline-pool.js";
import { createDeferredWorkerPool, type WorkerPool } from "../workers/worker-pool.js";
import type { RunTask } from "../workers/worker-protocol.js";
import { createLocalFileLoader } from "./model-loader.js";
import { createModelManager } from "./model-manager.js";

const models = writeTestModels();
afterAll(() => rmSync(models.dir, { recursive: true, force: true }));

/** The inline runner, its first `slowRuns` runs delayed 5 ms each; counts the runs after that. */
function busyAtFirst(slowRuns: number) {
  const inner = createInlinePool({ intraOpThreads: 1, logger: createLogger({ level: "silent" }) });
  const state = { runs: 0, fastRuns: 0 };
  const pool: WorkerPool = {
    size: 1,
    runsOn: "event loop",
    run: async (task: RunTask) => {
      state.runs++;
      if (state.runs <= slowRuns) await new Promise((r) => setTimeout(r, 5));
      else state.fastRuns++;
      return inner.run(task);
    },
    unload: (key) => inner.unload(key),
    close: () => inner.close(),
  };
  return { pool, state };
}

const features = new Float32Array([5.1, 3.5, 1.4, 0.2]);

/**
 * A manager whose event-loop runner is slow for its first 4 runs: 3 untimed and 1 timed (5 ms,
 * over 4x the 1 ms bound: the timing stops), so its first version goes to the threads.
 */
function managerTimedOnABusyLoop(retimeDelaysMs: readonly number[]) {
  const log = captureLog();
  const logger = createLogger({ level: "info", destination: log.destination });
  const threads = createDeferredWorkerPool({ workers: 1, intraOpThreads: 1, logger });
  const inline = busyAtFirst(4);
  const metrics = createInferenceMetrics();
  const manager = createModelManager({
    name: "iris",
    pool: threads,
    inline: { pool: inline.pool, maxBatchUs: 1_000, maxFileBytes: 1 << 20, retimeDelaysMs },
    metrics,
    logger,
    batching: { maxBatchSize: 8, maxQueueDelayUs: 0, maxQueueRows: 64 },
  });
  const close = async () => {
    await manager.close();
    await threads.close();
    await inline.pool.close();
  };
  /** `model_runs_on_event_loop` of the iris model's version 1; undefined without a series. */
  const runsOnEventLoop = async () =>
    (await metrics.runsOnEventLoop.get()).values.find((v) => v.labels.model === "iris" && v.labels.version === "1")
      ?.value;
  return { log, inline, manager, close, runsOnEventLoop };
}

describe("a version timed on a busy event loop", () => {
  it("serves from the threads first, then moves to the event loop when timed again", async () => {
    const { log, inline, manager, close, runsOnEventLoop } = managerTimedOnABusyLoop([50, 50]);
    try {
      const loaded = await manager.swap(createLocalFileLoader({ path: models.iris, name: "iris" }));
      expect(log.lines.find((l) => l.msg === "model loaded")).toMatchObject({ runsOn: "worker threads" });
      expect(await runsOnEventLoop()).toBe(0);
      const before = inline.state.fastRuns;
      await loaded.batcher.submit({ rows: 1, input: { data: features.slice(), rows: 1 } });
      expect(inline.state.fastRuns).toBe(before); // answered by the threads
      await until(async () => log.lines.some((l) => l.msg === "model moved to the event loop"));
      expect(log.lines.find((l) => l.msg === "model moved to the event loop")).toMatchObject({
        runsOn: "event loop",
        version: "1",
      });
      const timed = inline.state.fastRuns;
      const out = await loaded.batcher.submit({ rows: 1, input: { data: features.slice(), rows: 1 } });
      expect(out.get("probabilities")?.shape).toEqual([1, 3]);
      expect(inline.state.fastRuns).toBe(timed + 1); // answered on the event loop
      expect(await runsOnEventLoop()).toBe(1);
      await manager.close();
      expect(await runsOnEventLoop()).toBeUndefined();
    } finally {
      await close();
    }
  });

  it("is not timed again once retired", async () => {
    const { log, inline, manager, close } = managerTimedOnABusyLoop([50]);
    try {
      await manager.swap(createLocalFileLoader({ path: models.iris, name: "iris" }));
      expect(log.lines.find((l) => l.msg === "model loaded")).toMatchObject({ runsOn: "worker threads" });
      await manager.close();
      const runs = inline.state.runs;
      await new Promise((r) => setTimeout(r, 200));
      expect(inline.state.runs).toBe(runs);
      expect(log.lines.some((l) => l.msg === "model moved to the event loop")).toBe(false);
    } finally {
      await close();
    }
  });
});
