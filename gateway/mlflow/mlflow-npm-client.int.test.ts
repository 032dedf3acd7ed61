/**
 * The third-party `mlflow` npm client (2.0.7) against a real registry server, as a training
 * script would use it: experiments, runs, metrics, params, tags, batches, search, history,
 * artifact listing and errors, all through MLflow's REST API. The client's own bugs are worked
 * around here, never in the server: it prints every request body with console.log (silenced),
 * wraps errors twice (`Error("Error: {status, statusText, data}")`, parsed back), posts
 * set-experiment-tag to `/experimentsset-experiment-tag` (a second instance with the missing
 * slash in its path), declares its class as a `default` export its index.js does not have, and
 * calls `experiments/list`, which MLflow 2.x removed (answered as MLflow
 * 2.x answers it). It has no upload: artifacts are PUT to the proxy as MLflow's Python client does.
 */
import mlflowPackage from "mlflow";
import { RunStatus, ViewType } from "mlflow/enum.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestRegistryServer, type TestRegistryServer } from "../../test/support/registry-server.js";

// Its typings declare the class as the module's `default` export, but its index.js exports the
// class itself (`module.exports = require('./lib/mlflow').default`).
const MLflow = mlflowPackage as unknown as typeof mlflowPackage.default;

let server: TestRegistryServer;
let mlflow: InstanceType<typeof MLflow>;

beforeAll(async () => {
  server = await startTestRegistryServer({ logLevel: "silent" });
  mlflow = new MLflow({ endpoint: server.url });
  vi.spyOn(console, "log").mockImplementation(() => undefined);
});

afterAll(async () => {
  vi.restoreAllMocks();
  await server?.close();
});

/** The HTTP status and MLflow error body of a call the client rejected. */
async function failure(call: Promise<unknown>): Promise<{ status: number; data: Record<string, unknown> }> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  const message = (err as Error).message.replace(/^Error: /, "");
  return JSON.parse(message) as { status: number; data: Record<string, unknown> };
}

describe("the mlflow npm client", () => {
  it("tracks an experiment and its runs end to end", async () => {
    const { experiment_id } = await mlflow.Experiments.create({ name: "npm-client", artifact_location: "" });
    const { experiment } = await mlflow.Experiments.get({ experiment_id });
    expect(experiment).toMatchObject({ name: "npm-client", lifecycle_stage: "active" });
    await mlflow.Experiments.update({ experiment_id, new_name: "npm-client-2" });

    // Its setExperimentTag drops the slash between "/experiments" and the endpoint.
    const tagging = Object.assign(mlflow.Experiments, { path: "/experiments/" });
    await tagging.setExperimentTag({ experiment_id, key: "team", value: "ml" });
    expect((await mlflow.Experiments.get({ experiment_id })).experiment).toMatchObject({
      name: "npm-client-2",
      tags: [{ key: "team", value: "ml" }],
    });

    const { run } = await mlflow.Runs.create({
      experiment_id,
      user_id: "ada",
      start_time: Date.now(),
      tags: [{ key: "mlflow.runName", value: "npm-run" }],
    });
    const runId: string = run.info.run_id;
    expect(run.info).toMatchObject({ status: "RUNNING", user_id: "ada", run_name: "npm-run" });
    expect(run.info.artifact_uri).toBe(`mlflow-artifacts:/${experiment_id}/${runId}/artifacts`);

    for (const [step, loss] of [0.9, 0.5, 0.2].entries()) {
      await mlflow.Runs.logMetric({ run_id: runId, key: "loss", value: loss, timestamp: Date.now(), step });
    }
    await mlflow.Runs.logParameter({ run_id: runId, key: "lr", value: "0.01" });
    await mlflow.Runs.setTag({ run_id: runId, key: "note", value: "first" });
    await mlflow.Runs.setTag({ run_id: runId, key: "tmp", value: "x" });
    await mlflow.Runs.deleteTag({ run_id: runId, key: "tmp" });
    await mlflow.Runs.logBatch({
      run_id: runId,
      metrics: [{ key: "acc", value: 0.97, timestamp: Date.now(), step: 2 }],
      params: [{ key: "epochs", value: "3" }],
      tags: [{ key: "framework", value: "onnx" }],
    });

    const put = await fetch(
      `${server.url}/api/2.0/mlflow-artifacts/artifacts/${experiment_id}/${runId}/artifacts/report.txt`,
      { method: "PUT", body: "accuracy 0.97" },
    );
    expect(put.status).toBe(200);
    expect(await mlflow.Artifacts.list({ run_id: runId, path: "" })).toEqual({
      root_uri: run.info.artifact_uri,
      files: [{ path: "report.txt", is_dir: false, file_size: 13 }],
    });

    const { metrics } = await mlflow.Metrics.getHistory({ run_id: runId, metric_key: "loss" });
    expect(metrics.map((m: { value: number; step: number }) => [m.step, m.value])).toEqual([
      [0, 0.9],
      [1, 0.5],
      [2, 0.2],
    ]);

    const { run_info } = await mlflow.Runs.update({ run_id: runId, status: RunStatus.FINISHED, end_time: Date.now() });
    expect(run_info.status).toBe("FINISHED");
    const got = (await mlflow.Runs.get({ run_id: runId })).run;
    expect(got.data.params).toEqual([
      { key: "epochs", value: "3" },
      { key: "lr", value: "0.01" },
    ]);
    expect(got.data.tags).toEqual(expect.arrayContaining([{ key: "note", value: "first" }]));
    expect(got.data.tags.some((t: { key: string }) => t.key === "tmp")).toBe(false);

    const { runs } = await mlflow.Runs.search({
      experiment_ids: [experiment_id],
      filter: "metrics.acc > 0.9 and params.lr = '0.01'",
      run_view_type: ViewType.ACTIVE_ONLY,
      max_results: 10,
      order_by: ["start_time DESC"],
    });
    expect(runs.map((r: { info: { run_id: string } }) => r.info.run_id)).toEqual([runId]);

    await mlflow.Runs.delete({ run_id: runId });
    expect((await mlflow.Runs.get({ run_id: runId })).run.info.lifecycle_stage).toBe("deleted");
    await mlflow.Runs.restore({ run_id: runId });
    await mlflow.Experiments.delete({ experiment_id });
    await mlflow.Experiments.restore({ experiment_id });
  });

  it("sees MLflow's errors with their status and error_code", async () => {
    const unknown = await failure(mlflow.Runs.get({ run_id: "0123456789abcdef0123456789abcdef" }));
    expect(unknown).toMatchObject({ status: 404, data: { error_code: "RESOURCE_DOES_NOT_EXIST" } });
    await mlflow.Experiments.create({ name: "npm-dup", artifact_location: "" });
    const dup = await failure(mlflow.Experiments.create({ name: "npm-dup", artifact_location: "" }));
    expect(dup).toMatchObject({ status: 400, data: { error_code: "RESOURCE_ALREADY_EXISTS" } });
    const { run } = await mlflow.Runs.create({ experiment_id: "0", user_id: "ada", start_time: Date.now() });
    await mlflow.Runs.logParameter({ run_id: run.info.run_id, key: "p", value: "1" });
    const changed = await failure(mlflow.Runs.logParameter({ run_id: run.info.run_id, key: "p", value: "2" }));
    expect(changed).toMatchObject({ status: 400, data: { error_code: "INVALID_PARAMETER_VALUE" } });
    // experiments/list left MLflow's API in 2.0 (experiments/search replaces it).
    const listed = await failure(mlflow.Experiments.list());
    expect(listed).toMatchObject({ status: 404, data: { error_code: "ENDPOINT_NOT_FOUND" } });
  });
});
