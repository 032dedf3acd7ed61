/**
 * Where a real server runs each model's batches (server/workers/inline-choice.ts), read from its
 * "model loaded" log line and checked by predicting: the small test model on the event loop by
 * default, on the worker threads with a MODEL_HANDLER or INFERENCE_INLINE_MAX_BATCH_US=0, and on
 * the event loop with INFERENCE_WORKERS=0 even with a handler (which still applies); and a request
 * larger than the event loop's share (`maxRowsOnEventLoop`) on the threads, which start for it.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { startInferenceServer } from "../../app/inference-server.js";
import { loadConfig } from "../../core/config.js";
import { createLogger } from "../../core/logger.js";
import { captureLog } from "../../test/support/captured-log.js";
import { postJson, testHandlerPath } from "../../test/support/inference-test-harness.js";
import { irisBias, irisWeights, referenceProbabilities, writeTestModels } from "../../test/support/onnx-models.js";

const models = writeTestModels();
afterAll(() => rmSync(models.dir, { recursive: true, force: true }));

function startServer(env: Record<string, string>) {
  const log = captureLog();
  const config = loadConfig({
    HOST: "127.0.0.1",
    INFERENCE_PORT: "0",
    INFERENCE_WORKERS: "2",
    LOG_LEVEL: "info",
    MODEL_PATH: models.iris,
    ...env,
  });
  return startInferenceServer(config, createLogger({ level: "info", destination: log.destination })).then((server) => ({
    server,
    log,
  }));
}

/** Starts a server, predicts one row, stops it; returns the answer and the "model loaded" line. */
async function serveOnce(env: Record<string, string>, features: number[]) {
  const { server, log } = await startServer(env);
  try {
    const answer = await postJson(`${server.url}/predict`, { features });
    const loaded = log.lines.find((l) => l.msg === "model loaded");
    return { answer, loaded };
  } finally {
    await server.shutdown();
  }
}

const setosa = [5.1, 3.5, 1.4, 0.2];
const want = referenceProbabilities(irisWeights, irisBias, setosa);

describe("where a model's batches run", () => {
  it("runs the small model on the event loop by default, timing a full batch", async () => {
    const { answer, loaded } = await serveOnce({}, setosa);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ prediction: 0 });
    expect((answer.body as { probability: number }).probability).toBeCloseTo(Math.max(...want), 4);
    expect(loaded).toMatchObject({ runsOn: "event loop", version: "1" });
    expect(loaded?.fullBatchMicros).toEqual(expect.any(Number));
  });

  it.each([
    ["a MODEL_HANDLER", { MODEL_HANDLER: testHandlerPath }],
    ["INFERENCE_INLINE_MAX_BATCH_US=0", { INFERENCE_INLINE_MAX_BATCH_US: "0" }],
  ])("runs it on the worker threads with %s", async (_what, env) => {
    const { answer, loaded } = await serveOnce(env, setosa);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ prediction: 0 });
    expect(loaded).toMatchObject({ runsOn: "worker threads" });
    expect(loaded).not.toHaveProperty("fullBatchMicros");
  });

  it("runs every batch on the event loop with INFERENCE_WORKERS=0, a MODEL_HANDLER included", async () => {
    // The test handler replaces a first feature of 1000 by 5.1: the answer is setosa's.
    const { answer, loaded } = await serveOnce(
      { INFERENCE_WORKERS: "0", MODEL_HANDLER: testHandlerPath },
      [1000, 3.5, 1.4, 0.2],
    );
    expect(answer.status).toBe(200);
    expect((answer.body as { probability: number }).probability).toBeCloseTo(Math.max(...want), 4);
    expect(loaded).toMatchObject({ runsOn: "event loop" });
  });

  it.skipIf(!existsSync("/proc/self/task"))(
    "runs a request larger than the event loop's share on the worker threads, started for it",
    async () => {
      const { server, log } = await startServer({ MAX_BATCH_SIZE: "1", MAX_QUEUE_SIZE: "200000" });
      try {
        const loaded = log.lines.find((l) => l.msg === "model loaded");
        expect(loaded).toMatchObject({ runsOn: "event loop", maxRowsOnEventLoop: expect.any(Number) });
        const maxRows = Number(loaded?.maxRowsOnEventLoop);
        const threads = () => readdirSync("/proc/self/task").length;
        const before = threads();
        const small = await postJson(`${server.url}/predict`, {
          instances: Array.from({ length: maxRows }, () => setosa),
        });
        expect(small.status).toBe(200);
        expect(threads()).toBeLessThan(before + 2); // no pool started (other threads may come and go)
        const large = await postJson(`${server.url}/predict`, {
          instances: Array.from({ length: maxRows + 1 }, () => setosa),
        });
        expect(large.status).toBe(200);
        expect((large.body as { predictions: unknown[] }).predictions).toHaveLength(maxRows + 1);
        // INFERENCE_WORKERS=2: the pool's two threads now run beside the test's own
        expect(threads()).toBeGreaterThanOrEqual(before + 2);
      } finally {
        await server.shutdown();
      }
    },
  );
});
