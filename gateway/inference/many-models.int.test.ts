import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { Code } from "../../core/errors/index.js";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";
import { DataType, InferenceService, ModelTask } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { createGrpcClient, type GrpcClient, grpcError, grpcErrorDetails } from "../../test/support/grpc-client.js";
import { postJson, readMetric, startTestServer } from "../../test/support/inference-test-harness.js";
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

/** What the regression test model answers for `features`. */
function regression(features: readonly number[]): number {
  return features.reduce((sum, x, i) => sum + x * (regressionWeights[i] ?? 0), regressionBias);
}

function irisClass(features: readonly number[]): number {
  const p = referenceProbabilities(irisWeights, irisBias, features);
  return p.indexOf(Math.max(...p));
}

let models: TestModels;
let server: InferenceServer;
let grpcClient: GrpcClient<(typeof InferenceService)["method"]>;

beforeAll(async () => {
  models = writeTestModels();
  // Two files that cannot be served, listed with their reasons: one missing, one not ONNX.
  writeFileSync(join(models.dir, "garbage.onnx"), Buffer.from([0x0a, 0xff, 0xff, 0xff]));
  // Each test model is estimated at 2 workers x (6 x its few hundred bytes + 16 MiB), about
  // 33 MiB: the default model and "linear" fit in 70 MiB, "big" (loaded last) does not.
  server = await startTestServer({
    MODEL_NAME: "iris",
    MODEL_PATH: models.iris,
    MODEL_PATHS: [
      `linear=${models.regression}`,
      `big=${models.irisB}`,
      `unreadable=${join(models.dir, "gone.onnx")}`,
      `unsupported=${join(models.dir, "garbage.onnx")}`,
    ].join(","),
    MODEL_MEMORY_LIMIT_MB: "70",
    INFERENCE_WORKERS: "2",
  });
  grpcClient = createGrpcClient(InferenceService, new URL(server.grpcUrl).host);
});

afterAll(async () => {
  grpcClient?.close();
  await server?.shutdown();
});

describe("inference server: many models", () => {
  it("routes JSON predictions by the body's model, the path, or to the default model", async () => {
    const byDefault = await postJson(`${server.url}/predict`, { features: setosa });
    expect(byDefault.body).toMatchObject({ prediction: irisClass(setosa), model_version: "1" });

    const byField = await postJson(`${server.url}/predict`, { features: setosa, model: "linear" });
    expect(byField.status).toBe(200);
    expect(byField.body.prediction).toBeCloseTo(regression(setosa), 4);

    const byPath = await postJson(`${server.url}/models/linear/predict`, { instances: [setosa, [1, 2, 3, 4]] });
    expect(byPath.status).toBe(200);
    const predictions = byPath.body.predictions as { prediction: number }[];
    expect(predictions[1]?.prediction).toBeCloseTo(regression([1, 2, 3, 4]), 4);

    const pathIris = await postJson(`${server.url}/models/iris/predict`, { features: setosa, model: "iris" });
    expect(pathIris.body.prediction).toBe(irisClass(setosa));
  });

  it("answers a model it does not serve, a name that is not a string and a path/body mismatch with clear errors", async () => {
    const unknown = await postJson(`${server.url}/predict`, { features: setosa, model: "nope" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ id: "INFERENCE_MODEL_NOT_FOUND", field: "model" });

    const unknownPath = await postJson(`${server.url}/models/nope/predict`, { features: setosa });
    expect(unknownPath.status).toBe(404);
    expect(unknownPath.body.error).toMatchObject({ id: "INFERENCE_MODEL_NOT_FOUND" });

    const notString = await postJson(`${server.url}/predict`, { features: setosa, model: 3 });
    expect(notString.status).toBe(400);
    expect(notString.body.error).toMatchObject({ id: "INFERENCE_INVALID_INPUT", field: "model" });

    const mismatch = await postJson(`${server.url}/models/linear/predict`, { features: setosa, model: "iris" });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error).toMatchObject({ id: "INFERENCE_INVALID_INPUT", field: "model" });

    const badEncoding = await fetch(`${server.url}/models/%E0%A4%A/ready`);
    expect(badEncoding.status).toBe(400);

    const wrongMethod = await fetch(`${server.url}/models/linear/predict`);
    expect(wrongMethod.status).toBe(404);
    expect(((await wrongMethod.json()) as { error: { id: string } }).error.id).toBe("ROUTE_NOT_FOUND");
  });

  it("refuses a model that does not fit the memory limit, says so, and keeps serving the others", async () => {
    const res = await postJson(`${server.url}/models/big/predict`, { features: setosa });
    expect(res.status).toBe(429);
    expect(res.body.error).toMatchObject({ id: "INFERENCE_MODEL_TOO_LARGE" });
    expect((res.body.error as { message: string }).message).toMatch(
      /^model iris-b.onnx needs about 33 MB .* of the 70 MB/,
    );

    const ready = await fetch(`${server.url}/models/big/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ model: "big", ready: false });
    expect((await fetch(`${server.url}/models/linear/ready`)).status).toBe(200);
    expect((await fetch(`${server.url}/models/nope/ready`)).status).toBe(404);
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
    expect(await readMetric(server.url, "model_load_failures_total", { model: "big" })).toBe(1);
  });

  it("lists the models with their versions, default, readiness and failures (GET /models, ListModels)", async () => {
    const res = await fetch(`${server.url}/models`);
    const body = (await res.json()) as {
      models: {
        name: string;
        default: boolean;
        ready: boolean;
        versions: { version: string }[];
        status_message?: string;
      }[];
    };
    expect(body.models.map((m) => [m.name, m.default, m.ready, m.versions.length])).toEqual([
      ["big", false, false, 0],
      ["iris", true, true, 1],
      ["linear", false, true, 1],
      ["unreadable", false, false, 0],
      ["unsupported", false, false, 0],
    ]);
    expect(body.models[0]?.status_message).toMatch(/needs about 33 MB/);
    // The reasons name the file, never where it sits on the server (that is in the server's log).
    expect(body.models.slice(3).map((m) => m.status_message)).toEqual([
      "cannot load model from gone.onnx: the file cannot be read",
      expect.stringMatching(/^cannot load model from garbage\.onnx: /),
    ]);
    for (const m of body.models) expect(m.status_message ?? "").not.toContain(models.dir);

    const listed = await grpcClient.listModels({});
    expect(listed.models.map((m) => [m.name, m.isDefault, m.ready])).toEqual([
      ["big", false, false],
      ["iris", true, true],
      ["linear", false, true],
      ["unreadable", false, false],
      ["unsupported", false, false],
    ]);
    for (const m of listed.models) expect(m.statusMessage).not.toContain(models.dir);
    expect(listed.models[2]?.versions[0]?.task).toBe(ModelTask.REGRESSION);
  });

  it("describes each model by query, path and model_name", async () => {
    const byQuery = (await (await fetch(`${server.url}/model/info?model=linear`)).json()) as Record<string, unknown>;
    expect(byQuery).toMatchObject({ name: "linear", task: "regression", serving: true });
    const byPath = (await (await fetch(`${server.url}/models/linear/info`)).json()) as Record<string, unknown>;
    expect(byPath).toEqual(byQuery);
    expect(((await (await fetch(`${server.url}/model/info`)).json()) as { name: string }).name).toBe("iris");
    expect((await grpcClient.modelInfo({ modelName: "linear" })).name).toBe("linear");
    const err = await grpcError(grpcClient.modelInfo({ modelName: "nope" }));
    expect(err.code).toBe(Code.NotFound);
    expect(grpcErrorDetails(err, ErrorDetailSchema)[0]?.id).toBe("INFERENCE_MODEL_NOT_FOUND");
  });

  it("routes gRPC Predict and PredictBatch by model_name and counts requests per model", async () => {
    const before = await readMetric(server.url, "prediction_requests_total", {
      protocol: "grpc",
      code: "ok",
      model: "linear",
    });
    const one = await grpcClient.predict({ features: setosa, modelName: "linear" });
    expect(one.prediction?.prediction).toBeCloseTo(regression(setosa), 4);
    const batch = await grpcClient.predictBatch({
      modelName: "linear",
      inputs: { dtype: DataType.FLOAT32, shape: [1n, 4n], data: new Uint8Array(Float32Array.from(setosa).buffer) },
    });
    expect(batch.predictions[0]?.prediction).toBeCloseTo(regression(setosa), 4);
    expect((await grpcClient.predict({ features: setosa })).prediction?.prediction).toBe(irisClass(setosa));

    const err = await grpcError(grpcClient.predict({ features: setosa, modelName: "nope" }));
    expect(err.code).toBe(Code.NotFound);
    expect(
      await readMetric(server.url, "prediction_requests_total", { protocol: "grpc", code: "ok", model: "linear" }),
    ).toBe(before + 2);
    // A name the server does not serve creates no series of its own.
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).not.toContain('model="nope"');
    expect(
      await readMetric(server.url, "prediction_requests_total", { protocol: "grpc", code: "not_found", model: "" }),
    ).toBeGreaterThanOrEqual(1);
  });
});
