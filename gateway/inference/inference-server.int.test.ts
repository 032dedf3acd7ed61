import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { Code } from "../../core/errors/index.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";
import {
  DataType,
  InferenceService,
  ModelTask,
  PredictResponseSchema,
} from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { createLocalFileLoader } from "../../server/models/model-loader.js";
import { createGrpcClient, type GrpcClient, grpcErrorDetails, isServiceError } from "../../test/support/grpc-client.js";
import {
  postJson,
  readMetric,
  startTestServer,
  testHandlerPath,
  until,
} from "../../test/support/inference-test-harness.js";
import {
  irisBias,
  irisWeights,
  referenceProbabilities,
  regressionBias,
  regressionWeights,
  type TestModels,
  writeTestModels,
} from "../../test/support/onnx-models.js";

const setosa = [5.1, 3.5, 1.4, 0.2];
const virginica = [6.7, 3.0, 5.2, 2.3];

function expectedClass(features: readonly number[]): { prediction: number; probability: number } {
  const p = referenceProbabilities(irisWeights, irisBias, features);
  const max = Math.max(...p);
  return { prediction: p.indexOf(max), probability: max };
}

/** Asserts a rejected gRPC call's status code and mlpipe error id. */
async function expectGrpcError(call: Promise<unknown>, code: number, id?: string): Promise<void> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isServiceError(err)) throw new Error(`expected a gRPC error, got ${String(err)}`);
  expect(err.code, err.details).toBe(code);
  if (id !== undefined) expect(grpcErrorDetails(err, ErrorDetailSchema)[0]?.id).toBe(id);
}

let models: TestModels;
let server: InferenceServer;
let grpcClient: GrpcClient<(typeof InferenceService)["method"]>;
let health: GrpcClient<(typeof Health)["method"]>;

const latch = join(mkdtempSync(join(tmpdir(), "mlpipe-latch-")), "release");

beforeAll(async () => {
  models = writeTestModels();
  // Read by the test handler in the workers (which inherit the environment): 7777 waits for it.
  process.env.TEST_HANDLER_LATCH = latch;
  server = await startTestServer({
    MODEL_PATH: models.iris,
    MODEL_HANDLER: testHandlerPath,
    INFERENCE_GRPC_PORT: "0",
    MAX_QUEUE_DELAY_US: "1000",
    MAX_REQUEST_BYTES: "65536",
  });
  grpcClient = createGrpcClient(InferenceService, new URL(server.grpcUrl).host);
  health = createGrpcClient(Health, new URL(server.grpcUrl).host);
});

afterAll(async () => {
  grpcClient?.close();
  health?.close();
  await server?.shutdown();
});

describe("inference server: predictions", () => {
  it("answers POST /predict like the FastAPI service", async () => {
    const res = await postJson(`${server.url}/predict`, { features: setosa, model_version: "latest" });
    expect(res.status).toBe(200);
    const want = expectedClass(setosa);
    expect(res.body).toMatchObject({ prediction: want.prediction, model_version: "1" });
    expect(res.body.probability).toBeCloseTo(want.probability, 4);
    expect(typeof res.body.latency_ms).toBe("number");
  });

  it("answers the batch form with one prediction per instance, in order", async () => {
    const rows = [setosa, virginica, setosa, [5.9, 3.0, 4.2, 1.5]];
    const res = await postJson(`${server.url}/predict`, { instances: rows });
    expect(res.status).toBe(200);
    const predictions = res.body.predictions as { prediction: number; probability: number }[];
    expect(predictions).toHaveLength(4);
    rows.forEach((row, i) => {
      const want = expectedClass(row);
      expect(predictions[i]?.prediction).toBe(want.prediction);
      expect(predictions[i]?.probability).toBeCloseTo(want.probability, 4);
    });
  });

  it("runs the MODEL_HANDLER preprocess hook in the workers", async () => {
    const res = await postJson(`${server.url}/predict`, { features: [1000, 3.5, 1.4, 0.2] });
    expect(res.body.probability).toBeCloseTo(expectedClass(setosa).probability, 4);
  });

  it("answers gRPC Predict, on the gRPC port and on the main port alike", async () => {
    const want = expectedClass(virginica);
    const res = await grpcClient.predict({ features: virginica });
    expect(res.prediction?.prediction).toBe(want.prediction);
    expect(res.prediction?.probability).toBeCloseTo(want.probability, 4);
    expect(res.prediction?.probabilities).toHaveLength(3);
    expect(res.modelVersion).toBe("1");
    const main = createGrpcClient(InferenceService, new URL(server.url).host);
    try {
      expect((await main.predict({ features: virginica })).prediction?.prediction).toBe(want.prediction);
    } finally {
      main.close();
    }
  });

  it("answers PredictBatch with raw little-endian tensors both ways, converting float64 input", async () => {
    const rows = [setosa, virginica];
    const data = new Uint8Array(Float64Array.from(rows.flat()).buffer);
    const res = await grpcClient.predictBatch({
      inputs: { dtype: DataType.FLOAT64, shape: [2n, 4n], data },
    });
    expect(res.predictions.map((p) => p.prediction)).toEqual(rows.map((r) => expectedClass(r).prediction));
    const probs = res.outputs.find((o) => o.name === "probabilities");
    expect(probs?.dtype).toBe(DataType.FLOAT32);
    expect(probs?.shape).toEqual([2n, 3n]);
    const values = new Float32Array(Uint8Array.from(probs?.data ?? []).buffer);
    expect(values[0]).toBeCloseTo(referenceProbabilities(irisWeights, irisBias, setosa)[0] ?? 0, 4);
    const labels = res.outputs.find((o) => o.name === "label");
    expect(labels?.dtype).toBe(DataType.INT64);
  });

  it("streams predictions with PredictStream, one bad row failing alone", async () => {
    const responses = [];
    for await (const r of grpcClient.predictStream([
      { requestId: "a", features: setosa },
      { requestId: "bad", features: [1, 2] },
      { requestId: "b", features: virginica },
    ])) {
      responses.push(r);
    }
    const byId = new Map(responses.map((r) => [r.requestId, r]));
    expect(byId.size).toBe(3);
    expect(byId.get("a")?.result).toMatchObject({ case: "prediction" });
    expect(byId.get("b")?.result.case).toBe("prediction");
    const bad = byId.get("bad")?.result;
    expect(bad?.case).toBe("error");
    if (bad?.case === "error") {
      expect(bad.value).toMatchObject({ code: Code.InvalidArgument, id: "INFERENCE_INVALID_INPUT", field: "features" });
    }
  });

  it("speaks Connect JSON over HTTP/1.1 on the main port", async () => {
    const res = await postJson(`${server.url}/mlpipe.inference.v1.InferenceService/Predict`, { features: setosa });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ prediction: { prediction: 0 }, modelVersion: "1" });
  });

  it("describes the model over gRPC and GET /model/info", async () => {
    const info = await grpcClient.modelInfo({});
    expect(info).toMatchObject({
      name: "iris-classifier",
      version: "1",
      task: ModelTask.CLASSIFICATION,
      serving: true,
    });
    expect(info.inputs[0]).toMatchObject({ name: "features", dtype: "float32", shape: [-1n, 4n] });
    const res = await fetch(`${server.url}/model/info`);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      name: "iris-classifier",
      version: "1",
      // The file's name: a caller never learns the server's directory layout.
      source: "iris.onnx",
      task: "classification",
      signature: {
        inputs: [{ name: "features", dtype: "float32", shape: [-1, 4] }],
        outputs: [
          { name: "label", dtype: "int64", shape: [-1] },
          { name: "probabilities", dtype: "float32", shape: [-1, 3] },
        ],
      },
    });
    expect(Number.isNaN(Date.parse(String(body.loaded_at)))).toBe(false);
  });
});

describe("inference server: health, metrics, docs", () => {
  it("reports liveness and readiness over HTTP and gRPC Health", async () => {
    expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await health.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await health.check({ service: "mlpipe.inference.v1.InferenceService" })).status).toBe(
      HealthCheckResponse_ServingStatus.SERVING,
    );
    await expectGrpcError(health.check({ service: "nope.Service" }), grpc.status.NOT_FOUND);
    for await (const r of health.watch({})) {
      expect(r.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      break;
    }
  });

  it("streams every readiness change to gRPC Health Watch", async () => {
    const seen: HealthCheckResponse_ServingStatus[] = [];
    for await (const r of health.watch({})) {
      seen.push(r.status);
      if (seen.length === 1) server.readiness.set(false);
      else if (seen.length === 2) server.readiness.set(true);
      else break;
    }
    expect(seen).toEqual([
      HealthCheckResponse_ServingStatus.SERVING,
      HealthCheckResponse_ServingStatus.NOT_SERVING,
      HealthCheckResponse_ServingStatus.SERVING,
    ]);
    for await (const r of health.watch({ service: "nope.Service" })) {
      expect(r.status).toBe(HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN);
      break;
    }
  });

  it("exports Prometheus metrics with model and version labels", async () => {
    await postJson(`${server.url}/predict`, { features: setosa });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of [
      "prediction_latency_seconds_bucket",
      "prediction_requests_total",
      "model_load_time_seconds",
      "active_model_version",
      "inference_queue_time_seconds_bucket",
      "inference_batch_size_bucket",
      "inference_in_flight_requests",
      "inference_queue_depth",
      "inference_queue_capacity_rows",
      "model_load_failures_total",
    ]) {
      expect(text, name).toContain(name);
    }
    expect(text).toContain('active_model_version{model="iris-classifier",version="1"} 1');
    expect(text).toMatch(/prediction_latency_seconds_bucket\{le="0.0001",model="iris-classifier",version="1"\}/);
    expect(text).toMatch(/prediction_requests_total\{protocol="http",code="ok",model="iris-classifier"\} \d+/);
    expect(text).toMatch(/prediction_requests_total\{protocol="grpc",code="ok",model="iris-classifier"\} \d+/);
  });

  it("serves gRPC only on INFERENCE_GRPC_PORT: JSON, Connect and docs there are ROUTE_NOT_FOUND", async () => {
    expect(server.grpcUrl).not.toBe(server.url);
    expect((await health.check({ service: "" })).status).toBe(1);
    for (const path of ["/health", "/docs/openapi.json", "/v2"]) {
      const res = await fetch(`${server.grpcUrl}${path}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { id: "ROUTE_NOT_FOUND" } });
    }
    const predict = await postJson(`${server.grpcUrl}/predict`, { features: [5.1, 3.5, 1.4, 0.2] });
    expect(predict.status).toBe(404);
    const connect = await postJson(`${server.grpcUrl}/mlpipe.inference.v1.InferenceService/ModelInfo`, {});
    expect(connect.status).toBe(404);
  });

  it("serves an OpenAPI document and a self-contained page rendering it", async () => {
    const doc = (await (await fetch(`${server.url}/docs/openapi.json`)).json()) as { openapi: string; paths: object };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/predict",
        "/health",
        "/health/live",
        "/health/ready",
        "/model/info",
        "/metrics",
        "/v2",
        "/v2/models/{name}/infer",
        "/v2/models/{name}/versions/{version}/infer",
        "/invocations",
        "/ping",
      ]),
    );
    // Also where FastAPI serves it.
    expect(await (await fetch(`${server.url}/openapi.json`)).json()).toEqual(doc);
    const page = await (await fetch(`${server.url}/docs`)).text();
    expect(page).toContain("/docs/openapi.json");
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
  });
});

describe("inference server: bad input on every surface, never a 500", () => {
  const httpCases: [string, string | object, number, string, string | undefined][] = [
    ["wrong feature count", { features: [1, 2, 3] }, 400, "INFERENCE_INVALID_INPUT", "features"],
    ["a non-number", { features: [1, "2", 3, 4] }, 400, "INFERENCE_INVALID_INPUT", "features[1]"],
    ["an infinite value", '{"features": [1, 1e999, 3, 4]}', 400, "INFERENCE_INVALID_INPUT", "features[1]"],
    ["NaN (not JSON)", '{"features": [1, NaN, 3, 4]}', 400, "INVALID_ARGUMENT", "body"],
    ["empty features", { features: [] }, 400, "INFERENCE_INVALID_INPUT", "features"],
    ["empty instances", { instances: [] }, 400, "INFERENCE_INVALID_INPUT", "instances"],
    ["a bad instance", { instances: [setosa, [1]] }, 400, "INFERENCE_INVALID_INPUT", "instances[1]"],
    ["no features", { model_version: "1" }, 400, "INFERENCE_INVALID_INPUT", "features"],
    ["malformed JSON", '{"features": [1, 2', 400, "INVALID_ARGUMENT", "body"],
    ["a JSON array body", "[1, 2, 3, 4]", 400, "INVALID_ARGUMENT", "body"],
    [
      "an unknown version",
      { features: setosa, model_version: "7" },
      404,
      "INFERENCE_MODEL_VERSION_NOT_FOUND",
      "model_version",
    ],
    [
      "a version of the wrong type",
      { features: setosa, model_version: [1] },
      400,
      "INFERENCE_INVALID_INPUT",
      "model_version",
    ],
    ["an oversized body", { features: setosa, pad: "x".repeat(70_000) }, 413, "REQUEST_TOO_LARGE", undefined],
  ];

  it.each(httpCases)("HTTP: %s -> %i %s", async (_name, body, status, id, field) => {
    const res = await postJson(`${server.url}/predict`, body);
    expect(res.status).toBe(status);
    const error = res.body.error as Record<string, string>;
    expect(error.id).toBe(id);
    expect(error.field).toBe(field);
    expect(typeof error.message).toBe("string");
  });

  it("HTTP: a bad timeout header is INVALID_ARGUMENT", async () => {
    const res = await postJson(
      `${server.url}/predict`,
      { features: setosa },
      { headers: { "x-request-timeout-ms": "soon" } },
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ field: "x-request-timeout-ms" });
  });

  it("counts each failed request once, under its protocol and code, whether its body, a header or its input failed", async () => {
    const count = (protocol: string, code: string) =>
      readMetric(server.url, "prediction_requests_total", { protocol, code });
    const before = {
      httpInvalid: await count("http", "invalid_argument"),
      httpNotFound: await count("http", "not_found"),
      grpcInvalid: await count("grpc", "invalid_argument"),
      connectInvalid: await count("connect", "invalid_argument"),
    };
    await postJson(`${server.url}/predict`, '{"features": [1, 2');
    await postJson(`${server.url}/predict`, { features: setosa }, { headers: { "x-request-timeout-ms": "soon" } });
    await postJson(`${server.url}/predict`, { features: [1, 2] });
    await postJson(`${server.url}/predict`, { features: setosa, model_version: "7" });
    await expectGrpcError(grpcClient.predict({ features: [1, 2, 3] }), grpc.status.INVALID_ARGUMENT);
    const connect = await postJson(`${server.url}/mlpipe.inference.v1.InferenceService/Predict`, { features: [1] });
    expect(connect.status).toBe(400);
    expect(await count("http", "invalid_argument")).toBe(before.httpInvalid + 3);
    expect(await count("http", "not_found")).toBe(before.httpNotFound + 1);
    expect(await count("grpc", "invalid_argument")).toBe(before.grpcInvalid + 1);
    expect(await count("connect", "invalid_argument")).toBe(before.connectInvalid + 1);
  });

  it("gRPC: wrong count, non-finite, empty, unknown version", async () => {
    await expectGrpcError(
      grpcClient.predict({ features: [1, 2, 3] }),
      grpc.status.INVALID_ARGUMENT,
      "INFERENCE_INVALID_INPUT",
    );
    await expectGrpcError(grpcClient.predict({ features: [1, Number.NaN, 3, 4] }), grpc.status.INVALID_ARGUMENT);
    await expectGrpcError(
      grpcClient.predict({ features: [1, Number.POSITIVE_INFINITY, 3, 4] }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectGrpcError(grpcClient.predict({ features: [] }), grpc.status.INVALID_ARGUMENT);
    await expectGrpcError(
      grpcClient.predict({ features: setosa, modelVersion: "Staging" }),
      grpc.status.NOT_FOUND,
      "INFERENCE_MODEL_VERSION_NOT_FOUND",
    );
    await expectGrpcError(grpcClient.modelInfo({ modelVersion: "9" }), grpc.status.NOT_FOUND);
  });

  it("gRPC: bad PredictBatch tensors", async () => {
    const f32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);
    const cases = [
      { inputs: { dtype: DataType.UNSPECIFIED, shape: [1n, 4n], data: f32(setosa) } },
      { inputs: { dtype: DataType.FLOAT32, shape: [1n, 3n], data: f32([1, 2, 3]) } },
      { inputs: { dtype: DataType.FLOAT32, shape: [2n, 4n], data: f32(setosa) } },
      { inputs: { dtype: DataType.FLOAT32, shape: [0n, 4n], data: f32([]) } },
      { inputs: { dtype: DataType.FLOAT32, shape: [1n, 2n, 2n], data: f32(setosa) } },
      { inputs: { dtype: DataType.FLOAT32, shape: [1n, 4n], data: f32([1, Number.NaN, 3, 4]) } },
      { inputs: { dtype: DataType.FLOAT32, shape: [1n, 4n], data: f32(setosa), name: "other" } },
      {},
    ];
    for (const c of cases)
      await expectGrpcError(grpcClient.predictBatch(c), grpc.status.INVALID_ARGUMENT, "INFERENCE_INVALID_INPUT");
  });

  function rawPredict(bytes: Buffer): Promise<unknown> {
    const raw = new grpc.Client(new URL(server.grpcUrl).host, grpc.credentials.createInsecure());
    return new Promise<unknown>((resolve, reject) =>
      raw.makeUnaryRequest(
        "/mlpipe.inference.v1.InferenceService/Predict",
        (b: Buffer) => b,
        (b: Buffer) => fromBinary(PredictResponseSchema, b),
        bytes,
        (err, res) => (err === null ? resolve(res) : reject(err)),
      ),
    ).finally(() => raw.close());
  }

  it("gRPC: an oversized message is RESOURCE_EXHAUSTED", async () => {
    await expectGrpcError(rawPredict(Buffer.alloc(70_000, 0x0a)), grpc.status.RESOURCE_EXHAUSTED);
  });

  // connect-es reports a request message it cannot parse as INTERNAL before any interceptor runs;
  // the edge (gateway/protocol-connect/malformed-request-status.ts) makes it the client error it is.
  it("gRPC and Connect: a malformed protobuf message is INVALID_ARGUMENT", async () => {
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff]);
    await expectGrpcError(rawPredict(garbage), grpc.status.INVALID_ARGUMENT, "INVALID_ARGUMENT");
    const res = await fetch(`${server.url}/mlpipe.inference.v1.InferenceService/Predict`, {
      method: "POST",
      headers: { "content-type": "application/proto", "connect-protocol-version": "1" },
      body: garbage,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument" });
  });
});

describe("inference server: model versions and hot swap", () => {
  it("loads a version beside the served one, answers requests pinned to it, then swaps under load with zero failures", async () => {
    const b = createLocalFileLoader({ path: models.irisB, name: "iris-classifier", version: "2", stage: "Staging" });
    await server.manager.load(b);
    const pinned = await postJson(`${server.url}/predict`, { features: setosa, model_version: "Staging" });
    expect(pinned.body.model_version).toBe("2");
    expect((await postJson(`${server.url}/predict`, { features: setosa })).body.model_version).toBe("1");

    let swapped = false;
    const failures: unknown[] = [];
    const versions = new Set<unknown>();
    const client = async (n: number): Promise<void> => {
      let afterSwap = 0;
      while (afterSwap < 5) {
        if (swapped) afterSwap++;
        try {
          if (n % 2 === 0) {
            const res = await postJson(`${server.url}/predict`, { features: setosa });
            if (res.status !== 200) failures.push(res.body);
            versions.add(res.body.model_version);
          } else {
            versions.add((await grpcClient.predict({ features: virginica })).modelVersion);
          }
        } catch (err) {
          failures.push(err);
        }
      }
    };
    const load = Promise.all(Array.from({ length: 6 }, (_, n) => client(n)));
    const c = createLocalFileLoader({
      path: models.irisB,
      name: "iris-classifier",
      version: "3",
      aliases: ["champion"],
    });
    await server.manager.swap(c);
    swapped = true;
    await load;
    expect(failures).toEqual([]);
    expect(versions.has("3")).toBe(true);
    const after = await postJson(`${server.url}/predict`, { features: setosa });
    expect(after.body.model_version).toBe("3");
    expect((await postJson(`${server.url}/predict`, { features: setosa, model_version: "champion" })).status).toBe(200);
    expect((await postJson(`${server.url}/predict`, { features: setosa, model_version: "1" })).status).toBe(404);
    expect((await postJson(`${server.url}/predict`, { features: setosa, model_version: "2" })).status).toBe(404);
    expect(await readMetric(server.url, "active_model_version", { version: "3" })).toBe(1);
    expect(await readMetric(server.url, "active_model_version", { version: "1" })).toBe(0);
    // swap back so later tests see the first model again
    await server.manager.swap(createLocalFileLoader({ path: models.iris, name: "iris-classifier", version: "1" }));
  });

  it("serves a regression model's value, pinned by alias beside the classifier", async () => {
    await server.manager.load(
      createLocalFileLoader({ path: models.regression, name: "house-prices", version: "10", aliases: ["reg"] }),
    );
    const want = regressionWeights.reduce((acc, w, i) => acc + w * (setosa[i] ?? 0), regressionBias);
    const res = await postJson(`${server.url}/predict`, { features: setosa, model_version: "reg" });
    expect(res.status).toBe(200);
    expect(res.body.model_version).toBe("10");
    expect(res.body.prediction).toBeCloseTo(want, 4);
    expect(res.body).not.toHaveProperty("probability");
    const g = await grpcClient.predict({ features: setosa, modelVersion: "10" });
    expect(g.prediction?.prediction).toBeCloseTo(want, 4);
    expect(g.prediction?.probability).toBeUndefined();
    expect((await grpcClient.modelInfo({ modelVersion: "reg" })).task).toBe(ModelTask.REGRESSION);
  });

  it("refuses to swap to a file that is not a model, counts the failure, and keeps serving", async () => {
    const failures = await readMetric(server.url, "model_load_failures_total");
    await expect(server.manager.swap(createLocalFileLoader({ path: models.dir }))).rejects.toMatchObject({
      id: "INFERENCE_MODEL_LOAD_FAILED",
    });
    expect(await readMetric(server.url, "model_load_failures_total")).toBe(failures + 1);
    expect((await postJson(`${server.url}/predict`, { features: setosa })).status).toBe(200);
  });
});

describe("inference server: deadlines after dispatch", () => {
  it("answers DEADLINE_EXCEEDED, not a stale 200, when the deadline passes while the batch computes", async () => {
    const computed = await readMetric(server.url, "inference_computed_rows_total");
    const pending = postJson(
      `${server.url}/predict`,
      { features: [7777, 3.5, 1.4, 0.2] },
      { headers: { "x-request-timeout-ms": "100" } },
    );
    // In flight and no longer queued: its batch is running (blocked in the handler until the latch).
    await until(
      async () =>
        (await readMetric(server.url, "inference_in_flight_requests")) === 1 &&
        (await readMetric(server.url, "inference_queue_depth")) === 0,
    );
    await new Promise((r) => setTimeout(r, 150)); // past the 100 ms deadline (an ordering, not a measurement)
    writeFileSync(latch, "");
    const res = await pending;
    expect(res.status).toBe(504);
    expect(res.body.error).toMatchObject({ id: "DEADLINE_EXCEEDED" });
    expect(await readMetric(server.url, "inference_computed_rows_total")).toBe(computed + 1);
  });
});

describe("inference server: worker failure", () => {
  it("fails only the batch of a dying worker, replaces it, and stays ready", async () => {
    const before = await readMetric(server.url, "inference_worker_failures_total");
    const dead = await postJson(`${server.url}/predict`, { features: [-999, 0, 0, 0] });
    expect(dead.status).toBe(500);
    expect(dead.body.error).toMatchObject({ id: "INFERENCE_WORKER_FAILED" });
    expect(await readMetric(server.url, "inference_worker_failures_total")).toBe(before + 1);
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
    const after = await Promise.all(
      Array.from({ length: 8 }, () => postJson(`${server.url}/predict`, { features: setosa })),
    );
    expect(after.map((r) => r.status)).toEqual(Array(8).fill(200));
  });

  it("answers a throwing handler with INFERENCE_HANDLER_FAILED", async () => {
    const res = await postJson(`${server.url}/predict`, { features: [-998, 0, 0, 0] });
    expect(res.status).toBe(500);
    expect(res.body.error).toMatchObject({ id: "INFERENCE_HANDLER_FAILED" });
    await expectGrpcError(
      grpcClient.predict({ features: [-998, 0, 0, 0] }),
      grpc.status.INTERNAL,
      "INFERENCE_HANDLER_FAILED",
    );
  });
});
