/**
 * MLflow's REST API 2.0 on a real registry server (PGlite, local artifacts), request by request
 * as MLflow's REST API reference writes them: paths, methods (GET forms with query parameters,
 * PATCH and DELETE where MLflow uses them), snake_case fields, enums by name, int64 as numbers
 * and versions as strings, `mlflow-artifacts:` URIs, and every error as
 * `{"error_code", "message"}` with MLflow's HTTP status. Runs logged here are read back over
 * Connect: one store backs both APIs.
 */
import { readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrackingService } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { type TestModels, writeTestModels } from "../../test/support/onnx-models.js";
import { startTestRegistryServer, type TestRegistryServer } from "../../test/support/registry-server.js";

let server: TestRegistryServer;
let models: TestModels;
/** The server's JSON body limit (MAX_REQUEST_BYTES), small so the limit is cheap to pass. */
const maxRequestBytes = 64 * 1024;
/** How long a body may take to arrive (REQUEST_READ_TIMEOUT_MS): every real body here arrives at once. */
const readTimeoutMs = 2000;

beforeAll(async () => {
  models = writeTestModels();
  server = await startTestRegistryServer({
    env: { MAX_REQUEST_BYTES: String(maxRequestBytes), REQUEST_READ_TIMEOUT_MS: String(readTimeoutMs) },
    logLevel: "silent",
  });
});

afterAll(async () => {
  await server?.close();
  if (models !== undefined) rmSync(models.dir, { recursive: true, force: true });
});

type Json = Record<string, unknown>;
interface Answer {
  readonly status: number;
  readonly body: Json;
}

const api = "/api/2.0/mlflow/";

/** Calls `path` below /api/2.0/mlflow/: GET and DELETE-with-query take `query`, others a JSON body. */
async function call(method: string, path: string, params: Json = {}): Promise<Answer> {
  const url = new URL(`${server.url}${api}${path}`);
  const init: RequestInit = { method };
  if (method === "GET") {
    for (const [key, value] of Object.entries(params)) {
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(item));
    }
  } else {
    init.body = JSON.stringify(params);
    init.headers = { "content-type": "application/json" };
  }
  const res = await fetch(url, init);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return { status: res.status, body: (await res.json()) as Json };
}

/** Expects an MLflow error answer. */
function expectError(answer: Answer, status: number, errorCode: string, message?: RegExp): void {
  expect(answer.status).toBe(status);
  expect(answer.body.error_code).toBe(errorCode);
  expect(typeof answer.body.message).toBe("string");
  if (message !== undefined) expect(answer.body.message).toMatch(message);
}

async function ok(method: string, path: string, params: Json = {}): Promise<Json> {
  const answer = await call(method, path, params);
  expect(answer.body).not.toHaveProperty("error_code");
  expect(answer.status).toBe(200);
  return answer.body;
}

/** A fresh experiment and a run in it; returns their ids and the run's artifact URI. */
async function newRun(name: string): Promise<{ experimentId: string; runId: string; artifactUri: string }> {
  const { experiment_id } = await ok("POST", "experiments/create", { name });
  const { run } = await ok("POST", "runs/create", { experiment_id, start_time: 1_700_000_000_000 });
  const info = (run as { info: Json }).info;
  return { experimentId: String(experiment_id), runId: String(info.run_id), artifactUri: String(info.artifact_uri) };
}

/** The artifact proxy URL of a `mlflow-artifacts:/` URI. */
function proxied(uri: string): string {
  expect(uri).toMatch(/^mlflow-artifacts:\//);
  return `${server.url}/api/2.0/mlflow-artifacts/artifacts/${uri.slice("mlflow-artifacts:/".length)}`;
}

describe("MLflow experiments", () => {
  it("creates, gets (by id and by name), renames, tags, deletes and restores", async () => {
    const { experiment_id } = await ok("POST", "experiments/create", {
      name: "mlflow-exp",
      tags: [{ key: "team", value: "ml" }],
    });
    expect(experiment_id).toMatch(/^\d+$/);
    const { experiment } = await ok("GET", "experiments/get", { experiment_id });
    expect(experiment).toMatchObject({
      experiment_id,
      name: "mlflow-exp",
      artifact_location: `mlflow-artifacts:/${experiment_id}`,
      lifecycle_stage: "active",
      tags: [{ key: "team", value: "ml" }],
    });
    expect(typeof (experiment as Json).creation_time).toBe("number");
    expect(await ok("GET", "experiments/get-by-name", { experiment_name: "mlflow-exp" })).toEqual({ experiment });

    expect(await ok("POST", "experiments/update", { experiment_id, new_name: "mlflow-exp-2" })).toEqual({});
    await ok("POST", "experiments/set-experiment-tag", { experiment_id, key: "stage", value: "dev" });
    const renamed = (await ok("GET", "experiments/get-by-name", { experiment_name: "mlflow-exp-2" })).experiment;
    expect(renamed).toMatchObject({
      experiment_id,
      tags: [
        { key: "stage", value: "dev" },
        { key: "team", value: "ml" },
      ],
    });

    await ok("POST", "experiments/delete", { experiment_id });
    expect((await ok("GET", "experiments/get", { experiment_id })).experiment).toMatchObject({
      lifecycle_stage: "deleted",
    });
    await ok("POST", "experiments/restore", { experiment_id });
    expect((await ok("GET", "experiments/get", { experiment_id })).experiment).toMatchObject({
      lifecycle_stage: "active",
    });
  });

  it("searches by GET and POST, with filters, order, view types and page tokens", async () => {
    for (const name of ["search-a", "search-b", "search-c"]) await ok("POST", "experiments/create", { name });
    const first = await ok("POST", "experiments/search", {
      filter: "name LIKE 'search-%'",
      order_by: ["name DESC"],
      max_results: 2,
    });
    expect((first.experiments as Json[]).map((e) => e.name)).toEqual(["search-c", "search-b"]);
    expect(typeof first.next_page_token).toBe("string");
    const second = await ok("GET", "experiments/search", {
      filter: "name LIKE 'search-%'",
      order_by: "name DESC",
      max_results: "2",
      page_token: String(first.next_page_token),
    });
    expect((second.experiments as Json[]).map((e) => e.name)).toEqual(["search-a"]);
    expect(second).not.toHaveProperty("next_page_token");

    const { experiment_id } = await ok("GET", "experiments/get-by-name", { experiment_name: "search-a" }).then(
      (r) => r.experiment as Json,
    );
    await ok("POST", "experiments/delete", { experiment_id });
    const deleted = await ok("GET", "experiments/search", { view_type: "DELETED_ONLY", filter: "name = 'search-a'" });
    expect((deleted.experiments as Json[]).map((e) => e.name)).toEqual(["search-a"]);
    const active = await ok("GET", "experiments/search", { filter: "name = 'search-a'" });
    expect(active).toEqual({});
  });

  it("answers MLflow's errors for bad and unknown experiments", async () => {
    await ok("POST", "experiments/create", { name: "dup" });
    expectError(await call("POST", "experiments/create", { name: "dup" }), 400, "RESOURCE_ALREADY_EXISTS", /dup/);
    expectError(await call("POST", "experiments/create", {}), 400, "INVALID_PARAMETER_VALUE");
    expectError(await call("POST", "experiments/create", { name: 5 }), 400, "INVALID_PARAMETER_VALUE", /name/);
    expectError(await call("GET", "experiments/get", { experiment_id: "987654" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(
      await call("GET", "experiments/get-by-name", { experiment_name: "nope" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    expectError(await call("POST", "experiments/delete", { experiment_id: "987654" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await call("POST", "experiments/search", { filter: "name ~~ 'x'" }), 400, "INVALID_PARAMETER_VALUE");
    expectError(await call("POST", "experiments/search", { view_type: "SOME" }), 400, "INVALID_PARAMETER_VALUE");
    expectError(await call("POST", "experiments/search", { max_results: -1 }), 400, "INVALID_PARAMETER_VALUE");
  });
});

describe("MLflow runs", () => {
  it("creates a run with MLflow's tags, logs metrics, params, tags, batches, inputs and models, and reads them back", async () => {
    const { experiment_id } = await ok("POST", "experiments/create", { name: "runs-exp" });
    const created = await ok("POST", "runs/create", {
      experiment_id,
      user_id: "ada",
      start_time: "1700000000000",
      tags: [{ key: "mlflow.runName", value: "first" }],
    });
    const info = (created.run as { info: Json }).info;
    const runId = String(info.run_id);
    expect(info).toMatchObject({
      run_uuid: runId,
      run_name: "first",
      experiment_id,
      user_id: "ada",
      status: "RUNNING",
      start_time: 1_700_000_000_000,
      artifact_uri: `mlflow-artifacts:/${experiment_id}/${runId}/artifacts`,
      lifecycle_stage: "active",
    });

    await ok("POST", "runs/log-metric", { run_id: runId, key: "loss", value: 0.5, timestamp: 1, step: 0 });
    await ok("POST", "runs/log-metric", { run_uuid: runId, key: "loss", value: "0.25", timestamp: "2", step: "1" });
    await ok("POST", "runs/log-parameter", { run_id: runId, key: "lr", value: "0.1" });
    await ok("POST", "runs/set-tag", { run_id: runId, key: "note", value: "hello" });
    await ok("POST", "runs/set-tag", { run_id: runId, key: "gone", value: "soon" });
    await ok("POST", "runs/delete-tag", { run_id: runId, key: "gone" });
    await ok("POST", "runs/log-batch", {
      run_id: runId,
      metrics: [{ key: "acc", value: 0.9, timestamp: 3, step: 2 }],
      params: [{ key: "epochs", value: "3" }],
      tags: [{ key: "batch", value: "yes" }],
    });
    const dataset = { name: "iris", digest: "abc123", source_type: "local", source: "/data/iris.csv" };
    await ok("POST", "runs/log-inputs", {
      run_id: runId,
      datasets: [{ tags: [{ key: "mlflow.data.context", value: "training" }], dataset }],
    });
    await ok("POST", "runs/log-inputs", { run_id: runId, datasets: [{ dataset }] });
    const model = {
      artifact_path: "model",
      flavors: { onnx: { onnx_version: "1.16" } },
      utc_time_created: "2024-01-01 00:00:00.000000",
      run_id: runId,
      signature: { inputs: "[]" },
    };
    await ok("POST", "runs/log-model", { run_id: runId, model_json: JSON.stringify(model) });

    const { run } = await ok("GET", "runs/get", { run_id: runId });
    const { data, inputs } = run as { data: Json; inputs: Json };
    expect(data.metrics).toEqual(
      expect.arrayContaining([
        { key: "loss", value: 0.25, timestamp: 2, step: 1 },
        { key: "acc", value: 0.9, timestamp: 3, step: 2 },
      ]),
    );
    expect(data.params).toEqual([
      { key: "epochs", value: "3" },
      { key: "lr", value: "0.1" },
    ]);
    const tags = Object.fromEntries((data.tags as { key: string; value: string }[]).map((t) => [t.key, t.value]));
    expect(tags).toMatchObject({ note: "hello", batch: "yes", "mlflow.user": "ada", "mlflow.runName": "first" });
    expect(tags).not.toHaveProperty("gone");
    expect(tags).not.toHaveProperty("mlpipe.mlflow.dataset-inputs");
    const history = JSON.parse(String(tags["mlflow.log-model.history"])) as Json[];
    expect(history).toEqual([{ ...model, signature: undefined }].map(({ signature: _, ...rest }) => rest));
    // The same dataset logged twice is kept once, with the tags of the last logging.
    expect(inputs).toEqual({ dataset_inputs: [{ dataset }] });

    const points = await ok("GET", "metrics/get-history", { run_id: runId, metric_key: "loss" });
    expect(points.metrics).toEqual([
      { key: "loss", value: 0.5, timestamp: 1, step: 0 },
      { key: "loss", value: 0.25, timestamp: 2, step: 1 },
    ]);

    const updated = await ok("POST", "runs/update", { run_id: runId, status: "FINISHED", end_time: 1_700_000_100_000 });
    expect(updated.run_info).toMatchObject({ run_id: runId, status: "FINISHED", end_time: 1_700_000_100_000 });

    // One store behind both APIs: Connect sees what MLflow's API logged.
    const connect = createClient(TrackingService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const seen = await connect.getRun({ runId });
    expect(seen.run?.data?.params).toEqual({ lr: "0.1", epochs: "3" });
  });

  it("searches runs with filters and order, deletes and restores them", async () => {
    const a = await newRun("search-runs");
    const { run } = await ok("POST", "runs/create", { experiment_id: a.experimentId });
    const b = String((run as { info: Json }).info.run_id);
    await ok("POST", "runs/log-metric", { run_id: a.runId, key: "loss", value: 1, timestamp: 1 });
    await ok("POST", "runs/log-metric", { run_id: b, key: "loss", value: 2, timestamp: 1 });
    const found = await ok("POST", "runs/search", {
      experiment_ids: [a.experimentId],
      filter: "metrics.loss > 0",
      order_by: ["metrics.loss DESC"],
      run_view_type: "ACTIVE_ONLY",
    });
    expect((found.runs as { info: Json }[]).map((r) => r.info.run_id)).toEqual([b, a.runId]);
    const paged = await ok("POST", "runs/search", { experiment_ids: [a.experimentId], max_results: 1 });
    expect(paged.runs).toHaveLength(1);
    expect(typeof paged.next_page_token).toBe("string");

    await ok("POST", "runs/delete", { run_id: b });
    const active = await ok("POST", "runs/search", { experiment_ids: [a.experimentId] });
    expect((active.runs as { info: Json }[]).map((r) => r.info.run_id)).toEqual([a.runId]);
    const deleted = await ok("POST", "runs/search", {
      experiment_ids: [a.experimentId],
      run_view_type: "DELETED_ONLY",
    });
    expect((deleted.runs as { info: Json }[]).map((r) => r.info.lifecycle_stage)).toEqual(["deleted"]);
    await ok("POST", "runs/restore", { run_id: b });
    expect((await ok("GET", "runs/get", { run_id: b })).run).toMatchObject({ info: { lifecycle_stage: "active" } });
  });

  it("answers MLflow's errors for bad and unknown runs", async () => {
    const { runId } = await newRun("run-errors");
    const unknown = "0123456789abcdef0123456789abcdef";
    expectError(await call("GET", "runs/get", { run_id: unknown }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await call("POST", "runs/create", { experiment_id: "987654" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(
      await call("POST", "runs/log-metric", { run_id: runId, key: "x" }),
      400,
      "INVALID_PARAMETER_VALUE",
      /value/,
    );
    expectError(
      await call("POST", "runs/log-metric", { run_id: runId, key: "x", value: "high" }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
    expectError(
      await call("POST", "runs/log-metric", { run_id: runId, key: "x", value: 1, step: 1.5 }),
      400,
      "INVALID_PARAMETER_VALUE",
      /step/,
    );
    await ok("POST", "runs/log-parameter", { run_id: runId, key: "p", value: "1" });
    expectError(
      await call("POST", "runs/log-parameter", { run_id: runId, key: "p", value: "2" }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
    expectError(await call("POST", "runs/update", { run_id: runId, status: "DONE" }), 400, "INVALID_PARAMETER_VALUE");
    expectError(await call("POST", "runs/delete-tag", { run_id: runId, key: "never" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(await call("POST", "runs/log-batch", { run_id: runId, metrics: [5] }), 400, "INVALID_PARAMETER_VALUE");
    expectError(
      await call("POST", "runs/log-model", { run_id: runId, model_json: "{" }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
    expectError(
      await call("POST", "runs/log-model", { run_id: runId, model_json: "{}" }),
      400,
      "INVALID_PARAMETER_VALUE",
      /artifact_path/,
    );
    expectError(
      await call("POST", "runs/log-inputs", { run_id: runId, datasets: [{ dataset: { name: "d" } }] }),
      400,
      "INVALID_PARAMETER_VALUE",
      /digest/,
    );
    expectError(await call("POST", "runs/search", { filter: "metrics.loss >>> 1" }), 400, "INVALID_PARAMETER_VALUE");
    expectError(
      await call("GET", "metrics/get-history", { run_id: unknown, metric_key: "loss" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    await ok("POST", "runs/delete", { run_id: runId });
    expectError(
      await call("POST", "runs/log-metric", { run_id: runId, key: "x", value: 1 }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
  });
});

describe("MLflow artifact proxy", () => {
  it("uploads, lists and downloads a run's artifacts through mlflow-artifacts:/ URIs", async () => {
    const { runId, artifactUri } = await newRun("artifacts-exp");
    const bytes = readFileSync(models.iris);
    const put = await fetch(`${proxied(artifactUri)}/model/model.onnx`, { method: "PUT", body: bytes });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({});
    await fetch(`${proxied(artifactUri)}/notes.txt`, { method: "PUT", body: "hi" });

    const listed = await ok("GET", "artifacts/list", { run_id: runId });
    expect(listed).toEqual({
      root_uri: artifactUri,
      files: [
        { path: "model", is_dir: true },
        { path: "notes.txt", is_dir: false, file_size: 2 },
      ],
    });
    expect(await ok("GET", "artifacts/list", { run_id: runId, path: "model" })).toMatchObject({
      files: [{ path: "model/model.onnx", is_dir: false, file_size: bytes.byteLength }],
    });

    const path = artifactUri.slice("mlflow-artifacts:/".length);
    const dir = await fetch(
      `${server.url}/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(`${path}/model`)}`,
    );
    expect(await dir.json()).toEqual({ files: [{ path: "model.onnx", is_dir: false, file_size: bytes.byteLength }] });
    const nothing = await fetch(`${server.url}/api/2.0/mlflow-artifacts/artifacts?path=elsewhere`);
    expect(await nothing.json()).toEqual({});

    const got = await fetch(`${proxied(artifactUri)}/model/model.onnx`);
    expect(got.status).toBe(200);
    expect(got.headers.get("content-length")).toBe(String(bytes.byteLength));
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
    const text = await fetch(`${proxied(artifactUri)}/notes.txt`);
    expect(text.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await text.text()).toBe("hi");
  });

  it("answers MLflow's errors for paths that name nothing", async () => {
    const { artifactUri } = await newRun("artifact-errors");
    const missing = await fetch(`${proxied(artifactUri)}/absent.bin`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error_code: "RESOURCE_DOES_NOT_EXIST" });
    const elsewhere = await fetch(`${server.url}/api/2.0/mlflow-artifacts/artifacts/somewhere/else.txt`, {
      method: "PUT",
      body: "x",
    });
    expect(elsewhere.status).toBe(404);
    expect(await elsewhere.json()).toMatchObject({ error_code: "RESOURCE_DOES_NOT_EXIST" });
    // Encoded slashes, so that neither fetch nor a proxy folds the ".." away before the server sees it.
    const upward = await fetch(`${proxied(artifactUri)}/a%2F..%2Fb.txt`, { method: "PUT", body: "x" });
    expect(upward.status).toBe(400);
    expect(await upward.json()).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE" });
    const wrongMethod = await fetch(`${proxied(artifactUri)}/a.txt`, { method: "POST", body: "x" });
    expect(wrongMethod.status).toBe(404);
    expect(await wrongMethod.json()).toMatchObject({ error_code: "ENDPOINT_NOT_FOUND" });
  });
});

describe("MLflow model registry", () => {
  /** A run with the iris model logged as an MLflow model directory `model/`. */
  async function runWithModel(name: string): Promise<{ runId: string; source: string }> {
    const { runId, artifactUri } = await newRun(name);
    const put = await fetch(`${proxied(artifactUri)}/model/model.onnx`, {
      method: "PUT",
      body: readFileSync(models.iris),
    });
    expect(put.status).toBe(200);
    await fetch(`${proxied(artifactUri)}/model/MLmodel`, { method: "PUT", body: "flavors: {}\n" });
    return { runId, source: `${artifactUri}/model` };
  }

  it("creates, gets, renames, updates, tags, searches and deletes registered models", async () => {
    const created = await ok("POST", "registered-models/create", {
      name: "rm-a",
      description: "first",
      tags: [{ key: "k", value: "v" }],
    });
    expect(created.registered_model).toMatchObject({
      name: "rm-a",
      description: "first",
      tags: [{ key: "k", value: "v" }],
    });
    expect(typeof (created.registered_model as Json).creation_timestamp).toBe("number");
    expect((await ok("GET", "registered-models/get", { name: "rm-a" })).registered_model).toMatchObject({
      name: "rm-a",
    });
    const renamed = await ok("POST", "registered-models/rename", { name: "rm-a", new_name: "rm-b" });
    expect(renamed.registered_model).toMatchObject({ name: "rm-b" });
    const updated = await ok("PATCH", "registered-models/update", { name: "rm-b", description: "second" });
    expect(updated.registered_model).toMatchObject({ name: "rm-b", description: "second" });
    await ok("POST", "registered-models/set-tag", { name: "rm-b", key: "team", value: "ml" });
    await ok("DELETE", "registered-models/delete-tag", { name: "rm-b", key: "k" });
    expect((await ok("GET", "registered-models/get", { name: "rm-b" })).registered_model).toMatchObject({
      tags: [{ key: "team", value: "ml" }],
    });
    const found = await ok("GET", "registered-models/search", { filter: "name LIKE 'rm-%'", max_results: 10 });
    expect((found.registered_models as Json[]).map((m) => m.name)).toEqual(["rm-b"]);
    await ok("DELETE", "registered-models/delete", { name: "rm-b" });
    expectError(await call("GET", "registered-models/get", { name: "rm-b" }), 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it("registers a run's MLflow model directory, moves it through stages and aliases, and downloads it", async () => {
    const { runId, source } = await runWithModel("registry-flow");
    await ok("POST", "registered-models/create", { name: "iris-mlflow" });
    const created = await ok("POST", "model-versions/create", {
      name: "iris-mlflow",
      source,
      run_id: runId,
      description: "v1",
      tags: [{ key: "t", value: "1" }],
    });
    expect(created.model_version).toMatchObject({
      name: "iris-mlflow",
      version: "1",
      current_stage: "None",
      status: "READY",
      run_id: runId,
      description: "v1",
      tags: [{ key: "t", value: "1" }],
    });

    const got = await ok("GET", "model-versions/get", { name: "iris-mlflow", version: "1" });
    expect(got).toEqual(created);
    const patched = await ok("PATCH", "model-versions/update", { name: "iris-mlflow", version: "1", description: "d" });
    expect(patched.model_version).toMatchObject({ description: "d" });

    const moved = await ok("POST", "model-versions/transition-stage", {
      name: "iris-mlflow",
      version: "1",
      stage: "production",
      archive_existing_versions: false,
    });
    expect(moved.model_version).toMatchObject({ version: "1", current_stage: "Production" });
    const latest = await ok("POST", "registered-models/get-latest-versions", {
      name: "iris-mlflow",
      stages: ["Production"],
    });
    expect((latest.model_versions as Json[]).map((v) => v.version)).toEqual(["1"]);
    const latestGet = await ok("GET", "registered-models/get-latest-versions", {
      name: "iris-mlflow",
      stages: "Staging",
    });
    expect(latestGet).toEqual({});
    expect((await ok("GET", "registered-models/get", { name: "iris-mlflow" })).registered_model).toMatchObject({
      latest_versions: [{ version: "1", current_stage: "Production" }],
    });

    await ok("POST", "registered-models/alias", { name: "iris-mlflow", alias: "champion", version: "1" });
    const byAlias = await ok("GET", "registered-models/alias", { name: "iris-mlflow", alias: "champion" });
    expect(byAlias.model_version).toMatchObject({ version: "1", aliases: ["champion"] });
    expect((await ok("GET", "registered-models/get", { name: "iris-mlflow" })).registered_model).toMatchObject({
      aliases: [{ alias: "champion", version: "1" }],
    });
    await ok("DELETE", "registered-models/alias", { name: "iris-mlflow", alias: "champion" });
    expectError(
      await call("GET", "registered-models/alias", { name: "iris-mlflow", alias: "champion" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );

    await ok("POST", "model-versions/set-tag", { name: "iris-mlflow", version: "1", key: "q", value: "good" });
    await ok("DELETE", "model-versions/delete-tag", { name: "iris-mlflow", version: "1", key: "t" });
    expect((await ok("GET", "model-versions/get", { name: "iris-mlflow", version: "1" })).model_version).toMatchObject({
      tags: [{ key: "q", value: "good" }],
    });
    const search = await ok("GET", "model-versions/search", { filter: "name = 'iris-mlflow'", max_results: 200000 });
    expect((search.model_versions as Json[]).map((v) => v.version)).toEqual(["1"]);

    const { artifact_uri } = await ok("GET", "model-versions/get-download-uri", { name: "iris-mlflow", version: "1" });
    expect(artifact_uri).toBe("mlflow-artifacts:/registered-models/iris-mlflow/versions/1");
    const listing = await fetch(
      `${server.url}/api/2.0/mlflow-artifacts/artifacts?path=registered-models/iris-mlflow/versions/1`,
    );
    const bytes = readFileSync(models.iris);
    expect(await listing.json()).toEqual({
      files: [{ path: "model.onnx", is_dir: false, file_size: bytes.byteLength }],
    });
    const file = await fetch(`${proxied(String(artifact_uri))}/model.onnx`);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
    const overwrite = await fetch(`${proxied(String(artifact_uri))}/model.onnx`, { method: "PUT", body: "x" });
    expect(overwrite.status).toBe(400);
    expect(await overwrite.json()).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE" });

    await ok("DELETE", "model-versions/delete", { name: "iris-mlflow", version: "1" });
    expectError(
      await call("GET", "model-versions/get", { name: "iris-mlflow", version: "1" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
  });

  it("answers MLflow's errors for bad and unknown models and versions", async () => {
    await ok("POST", "registered-models/create", { name: "rm-err" });
    expectError(await call("POST", "registered-models/create", { name: "rm-err" }), 400, "RESOURCE_ALREADY_EXISTS");
    expectError(await call("POST", "registered-models/create", {}), 400, "INVALID_PARAMETER_VALUE");
    expectError(await call("GET", "registered-models/get", { name: "none" }), 404, "RESOURCE_DOES_NOT_EXIST");
    expectError(
      await call("POST", "model-versions/create", { name: "none", source: "runs:/0123456789abcdef0123456789abcdef/m" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    expectError(
      await call("GET", "model-versions/get", { name: "rm-err", version: "7" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    expectError(
      await call("GET", "model-versions/get", { name: "rm-err", version: "x" }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
    expectError(
      await call("POST", "model-versions/transition-stage", { name: "rm-err", version: "1", stage: "Live" }),
      400,
      "INVALID_PARAMETER_VALUE",
      /Production/,
    );
    expectError(
      await call("POST", "registered-models/get-latest-versions", { name: "rm-err", stages: ["Nope"] }),
      400,
      "INVALID_PARAMETER_VALUE",
    );
    expectError(
      await call("POST", "registered-models/alias", { name: "rm-err", alias: "a", version: "3" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    expectError(
      await call("GET", "model-versions/get-download-uri", { name: "rm-err", version: "2" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
    expectError(
      await call("PATCH", "registered-models/update", { name: "none", description: "d" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
  });
});

describe("MLflow surface", () => {
  it("hands the request's headers to the services through the call's context (the registry's actor)", async () => {
    const { runId, artifactUri } = await newRun("actor-exp");
    await fetch(`${proxied(artifactUri)}/m.onnx`, { method: "PUT", body: readFileSync(models.iris) });
    await ok("POST", "registered-models/create", { name: "acted" });
    const res = await fetch(`${server.url}${api}model-versions/create`, {
      method: "POST",
      headers: { "content-type": "application/json", "mlpipe-actor": "alice" },
      body: JSON.stringify({ name: "acted", source: `runs:/${runId}/m.onnx`, run_id: runId }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ model_version: { version: "1", user_id: "alice", status: "READY" } });
  });

  it("answers unknown endpoints, wrong methods, malformed JSON and oversized bodies in MLflow's shape", async () => {
    expectError(await call("POST", "runs/teleport", {}), 404, "ENDPOINT_NOT_FOUND");
    expectError(await call("GET", "runs/create", {}), 404, "ENDPOINT_NOT_FOUND");
    const json = { "content-type": "application/json" };
    const malformed = await fetch(`${server.url}${api}experiments/create`, {
      method: "POST",
      headers: json,
      body: "{name:",
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE" });
    const notObject = await fetch(`${server.url}${api}experiments/create`, {
      method: "POST",
      headers: json,
      body: "[1]",
    });
    expect(notObject.status).toBe(400);
    expect(await notObject.json()).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE" });
    const big = await fetch(`${server.url}${api}experiments/create`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ name: "x".repeat(maxRequestBytes) }),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE" });
    // A POST not declared JSON is refused unread (a page of another origin cannot send it without a
    // CORS preflight); MLflow's clients always declare application/json.
    const plain = await fetch(`${server.url}${api}experiments/create`, { method: "POST", body: '{"name": "p"}' });
    expect(plain.status).toBe(415);
    expect(await plain.json()).toMatchObject({ error_code: "INVALID_PARAMETER_VALUE" });
  });

  it("answers 408 to a body that never arrives whole, instead of holding the request open", async () => {
    const { port } = new URL(server.url);
    const socket = net.connect(Number(port), "127.0.0.1");
    try {
      const answer = new Promise<string>((resolve) => {
        let text = "";
        socket.on("data", (d: Buffer) => {
          text += d.toString("utf8");
          if (/\r\n\r\n[\s\S]*\}/.test(text)) resolve(text);
        });
        socket.on("error", () => undefined);
        socket.once("close", () => resolve(text));
      });
      // Content-Length promises 100 bytes; 12 come.
      socket.write(
        `POST ${api}experiments/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name": "sl`,
      );
      const text = await answer;
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      const body = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) as Json;
      expect(body).toMatchObject({ error_code: expect.any(String), message: expect.stringContaining("ms") });
    } finally {
      socket.destroy();
    }
    // Nothing was created, and the server answers as before.
    expectError(
      await call("GET", "experiments/get-by-name", { experiment_name: "sl" }),
      404,
      "RESOURCE_DOES_NOT_EXIST",
    );
  }, 20_000);

  it("accepts a double-encoded JSON body and a DELETE's parameters in its query", async () => {
    const res = await fetch(`${server.url}${api}registered-models/create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(JSON.stringify({ name: "double" })),
    });
    expect(res.status).toBe(200);
    const del = await fetch(`${server.url}${api}registered-models/delete?name=double`, { method: "DELETE" });
    expect(del.status).toBe(200);
    expectError(await call("GET", "registered-models/get", { name: "double" }), 404, "RESOURCE_DOES_NOT_EXIST");
  });

  it("serves the same endpoints under /ajax-api, and GET /version and /health", async () => {
    const res = await fetch(`${server.url}/ajax-api/2.0/mlflow/experiments/get-by-name?experiment_name=Default`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ experiment: { experiment_id: "0", name: "Default" } });
    const version = await fetch(`${server.url}/version`);
    expect(version.status).toBe(200);
    expect(await version.text()).toMatch(/^2\.\d+\.\d+$/);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
  });
});
