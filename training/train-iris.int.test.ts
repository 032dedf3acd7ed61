import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ort } from "../core/onnx/onnxruntime.js";
import { ModelVersionStatus, Stage } from "../gen/mlpipe/registry/v1/registry_pb.js";
import { RunStatus } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { createMlpipeClient, type MlpipeClient } from "../sdk/index.js";
import { startTestRegistryServer, type TestRegistryServer } from "../test/support/registry-server.js";
import { irisClassNames, irisFeatureNames, loadIrisCsv } from "./iris-data.js";
import { predictClass, predictProbabilities } from "./softmax-regression.js";
import { irisModelArtifactPath, trainIris } from "./train-iris.js";

let server: TestRegistryServer;
let client: MlpipeClient;

beforeAll(async () => {
  server = await startTestRegistryServer();
  client = createMlpipeClient({ url: server.url });
});

afterAll(async () => {
  await server?.close();
});

describe("trainIris", () => {
  it("trains >= 95% accurate, logs the run, uploads and registers an ONNX model over raw features that predicts like it", async () => {
    const result = await trainIris({ client, experiment: "iris-test", epochs: 300, stage: "Production" });
    expect(result.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(result.modelVersion).toMatchObject({
      name: "iris-classifier",
      version: 1n,
      status: ModelVersionStatus.READY,
      currentStage: Stage.PRODUCTION,
      runId: result.runId,
    });

    const run = (await client.tracking.getRun({ runId: result.runId })).run;
    expect(run?.info?.status).toBe(RunStatus.FINISHED);
    expect(run?.data?.params).toMatchObject({ epochs: "300", learning_rate: "0.5", seed: "42" });
    const loss = await client.tracking.getMetricHistory({ runId: result.runId, metricKey: "loss" });
    expect(loss.metrics).toHaveLength(300);
    expect(loss.metrics.at(-1)?.value).toBeLessThan(loss.metrics[0]?.value ?? 0);

    const parts: Uint8Array[] = [];
    for await (const m of client.tracking.downloadArtifact({ runId: result.runId, path: irisModelArtifactPath })) {
      if (m.content.case === "chunk") parts.push(m.content.value);
    }
    const session = await ort.InferenceSession.create(Buffer.concat(parts));
    try {
      const data = await loadIrisCsv();
      const rows = data.features.length;
      const input = new ort.Tensor("float32", Float32Array.from(data.features.flat()), [rows, irisFeatureNames.length]);
      const out = await session.run({ features: input });
      const labels = Array.from(out.label?.data as BigInt64Array, Number);
      const probabilities = out.probabilities?.data as Float32Array;
      expect(labels).toHaveLength(rows);
      data.features.forEach((row, i) => {
        expect(labels[i], `row ${i}`).toBe(predictClass(result.model, row));
        predictProbabilities(result.model, row).forEach((p, c) => {
          expect(probabilities[i * irisClassNames.length + c], `row ${i} class ${c}`).toBeCloseTo(p, 4);
        });
      });
      const correct = labels.filter((label, i) => label === data.labels[i]).length;
      expect(correct / rows).toBe(result.accuracy);
    } finally {
      await session.release();
    }
  });

  it("is deterministic for a seed", async () => {
    const a = await trainIris({ client, experiment: "iris-test", epochs: 20, seed: 7 });
    const b = await trainIris({ client, experiment: "iris-test", epochs: 20, seed: 7 });
    expect(b.model).toEqual(a.model);
    expect(b.runId).not.toBe(a.runId);
  });
});
