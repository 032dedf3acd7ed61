/**
 * What the data plane counts per version for progressive rollouts (routing/version-stats.ts), with
 * a real worker pool and a real ONNX model: answered requests with their latency, failures once a
 * version was chosen, and neither client cancellations nor requests that never reached a version.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commonErrors } from "../core/errors/index.js";
import { createLogger } from "../core/logger.js";
import { type TestModels, writeTestModels } from "../test/support/onnx-models.js";
import { Cancellation } from "./batching/cancellation.js";
import { createInferenceMetrics } from "./inference-metrics.js";
import { createLocalFileLoader } from "./models/model-loader.js";
import { createModelManager } from "./models/model-manager.js";
import { createModelSet } from "./models/model-set.js";
import { createPredictionService, type PredictionRequest, type PredictionService } from "./prediction-service.js";
import { createVersionStatsBook, type VersionStatsBook } from "./routing/version-stats.js";
import { createWorkerPool, type WorkerPool } from "./workers/worker-pool.js";

const logger = createLogger({ level: "silent" });
let models: TestModels;
let pool: WorkerPool;
let book: VersionStatsBook;
let service: PredictionService;

beforeAll(async () => {
  models = writeTestModels();
  pool = createWorkerPool({ workers: 1, intraOpThreads: 1, logger });
  const metrics = createInferenceMetrics();
  const manager = createModelManager({
    name: "iris",
    pool,
    metrics,
    logger,
    batching: { maxBatchSize: 8, maxQueueDelayUs: 0, maxQueueRows: 64 },
  });
  await manager.swap(createLocalFileLoader({ path: models.iris, name: "iris" }));
  book = createVersionStatsBook();
  service = createPredictionService({ models: createModelSet("iris", [manager]), metrics, versionStats: book });
}, 60_000);

afterAll(async () => {
  await pool?.close(true);
  if (models !== undefined) rmSync(models.dir, { recursive: true, force: true });
});

const rows = (features: number[]): PredictionRequest => ({
  kind: "rows",
  rows: [features],
  field: (i: number) => `rows[${i}]`,
  modelName: undefined,
  modelVersion: undefined,
});

describe("prediction service version stats", () => {
  it("counts answers with their latency and failures after the version was chosen", async () => {
    await service.predict({ protocol: "http" }, () => rows([5.1, 3.5, 1.4, 0.2]));
    await expect(service.predict({ protocol: "http" }, () => rows([5.1, 3.5]))).rejects.toMatchObject({
      id: "INFERENCE_INVALID_INPUT",
    });
    const [stats, ...others] = book.take("iris");
    expect(others).toEqual([]);
    expect(stats).toMatchObject({ requests: 2, errors: 1 });
    expect(stats?.latencyCounts.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it("counts neither a client's cancellation nor a request for a model not served", async () => {
    const gone = new Cancellation();
    gone.cancel(commonErrors.canceled());
    await expect(
      service.predict({ protocol: "grpc", signal: gone }, () => rows([5.1, 3.5, 1.4, 0.2])),
    ).rejects.toMatchObject({ code: 1 });
    await expect(
      service.predict({ protocol: "http" }, () => ({ ...rows([5.1, 3.5, 1.4, 0.2]), modelName: "other" })),
    ).rejects.toMatchObject({ id: "INFERENCE_MODEL_NOT_FOUND" });
    expect(book.take("iris")).toEqual([]);
    expect(book.take("other")).toEqual([]);
  });
});
