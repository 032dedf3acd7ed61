import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ModelVersionStatus, Stage } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { RunStatus } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { createMlpipeClient, type MlpipeClient } from "../../sdk/index.js";
import { type TestModels, writeTestModels } from "../../test/support/onnx-models.js";
import { startTestRegistryServer, type TestRegistryServer } from "../../test/support/registry-server.js";
import { type ProcessResult, runProcess } from "../../test/support/run-process.js";
import { describeWithTools, python3Tool } from "../../test/support/system-tools.js";

const script = join(import.meta.dirname, "mlflow_rest_calls.py");

/** Runs the script with the machine's python3. */
function runScript(args: readonly string[]): Promise<ProcessResult> {
  return runProcess("python3", [script, ...args]);
}

describeWithTools("examples/python/mlflow_rest_calls.py (the MLflow Python client's requests)", [python3Tool], () => {
  let server: TestRegistryServer;
  let models: TestModels;
  let client: MlpipeClient;

  beforeAll(async () => {
    server = await startTestRegistryServer({ logLevel: "silent" });
    models = writeTestModels();
    client = createMlpipeClient({ url: server.url });
  });

  afterAll(async () => {
    await server?.close();
    if (models !== undefined) await rm(models.dir, { recursive: true, force: true });
  });

  it("logs a run, uploads through the artifact proxy, registers, stages and downloads the model", async () => {
    const args = ["--url", server.url, "--model", models.iris, "--register", "iris-mlflow-py", "--stage", "Production"];
    const result = await runScript(args);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const out = JSON.parse(result.stdout) as Record<string, string>;
    const sha256 = createHash("sha256")
      .update(await readFile(models.iris))
      .digest("hex");
    expect(out).toMatchObject({
      artifact_uri: `mlflow-artifacts:/${out.experiment_id}/${out.run_id}/artifacts`,
      model_name: "iris-mlflow-py",
      version: "1",
      stage: "Production",
      download_sha256: sha256,
    });

    // mlpipe's own API sees the same run and version.
    const run = (await client.tracking.getRun({ runId: out.run_id ?? "" })).run;
    expect(run?.info?.status).toBe(RunStatus.FINISHED);
    expect(run?.data?.params).toEqual({ lr: "0.1" });
    const history = await client.tracking.getMetricHistory({ runId: out.run_id ?? "", metricKey: "loss" });
    expect(history.metrics.map((m) => m.value)).toEqual([0.9, 0.5, 0.3]);
    const listed = await client.tracking.listArtifacts({ runId: out.run_id ?? "", path: "model" });
    expect(listed.files).toMatchObject([{ path: "model/model.onnx", sha256 }]);
    const version = (await client.registry.getModelVersion({ name: "iris-mlflow-py", version: 1n })).modelVersion;
    expect(version).toMatchObject({
      status: ModelVersionStatus.READY,
      currentStage: Stage.PRODUCTION,
      runId: out.run_id,
      artifactSha256: sha256,
    });

    // Run again: the experiment and the model exist, as MLflow's client expects them to.
    const again = await runScript(args);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ experiment_id: out.experiment_id, version: "2" });
  });

  it("shows an MLflow error as the client's RestException does and exits 1", async () => {
    const result = await runScript(["--url", server.url, "--model", models.iris, "--experiment", ""]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^INVALID_PARAMETER_VALUE: /);
  });
});
