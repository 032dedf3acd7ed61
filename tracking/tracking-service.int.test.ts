import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  create,
  type DescMessage,
  fromBinary,
  fromJsonString,
  type MessageInitShape,
  type MessageShape,
  toJsonString,
} from "@bufbuild/protobuf";
import { Client, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, codeName } from "../core/errors/code.js";
import { codeToHttpStatus } from "../core/errors/http-status.js";
import { ErrorDetailSchema } from "../gen/mlpipe/common/v1/error_pb.js";
import {
  type DownloadArtifactResponse,
  LifecycleStage,
  RunStatus,
  TrackingService,
  type UploadArtifactRequestSchema,
  ViewType,
} from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { createGrpcClient, type GrpcClient, grpcErrorDetails, isServiceError } from "../test/support/grpc-client.js";
import { startTestRegistryServer, type TestRegistryServer } from "../test/support/registry-server.js";

/*
 * The tracking service end to end over real sockets: a registry server (PGlite + local artifact
 * directory) called with @grpc/grpc-js (gRPC over h2c, binary) and with plain fetch (Connect JSON
 * over HTTP/1.1). Every error path is asserted on both surfaces.
 */

const MiB = 1024 * 1024;
const maxRequestBytes = 4 * MiB;
const svc = TrackingService.method;
type Methods = typeof svc;
type UnaryName = { [K in keyof Methods]: Methods[K]["methodKind"] extends "unary" ? K : never }[keyof Methods];
type Req<K extends UnaryName> = MessageInitShape<Methods[K]["input"]>;
type Res<K extends UnaryName> = MessageShape<Methods[K]["output"]>;
type Upload = MessageInitShape<typeof UploadArtifactRequestSchema>;

let server: TestRegistryServer;
let grpc: GrpcClient<Methods>;

beforeAll(async () => {
  server = await startTestRegistryServer({ env: { MAX_REQUEST_BYTES: String(maxRequestBytes) } });
  grpc = createGrpcClient(TrackingService, server.address);
});
afterAll(async () => {
  grpc?.close();
  await server?.close();
});

/** A unary call over gRPC. */
function callGrpc<K extends UnaryName>(method: K, request: Req<K>): Promise<Res<K>> {
  // grpc[method] is a union over K; the call is correct for the K given.
  const fn = grpc[method] as unknown as (r: Req<K>) => Promise<Res<K>>;
  return fn(request);
}

/** POSTs a raw body to a procedure with the Connect protocol (JSON, HTTP/1.1). */
async function postConnect(procedure: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${server.url}/mlpipe.tracking.v1.TrackingService/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  return { status: res.status, text: await res.text() };
}

/** A unary call over Connect JSON; fails the test unless HTTP 200. */
async function callJson<K extends UnaryName>(method: K, request: Req<K>): Promise<Res<K>> {
  const desc: { name: string; input: DescMessage; output: DescMessage } = svc[method];
  const res = await postConnect(desc.name, toJsonString(desc.input, create(desc.input, request)));
  expect(res.status, res.text).toBe(200);
  return fromJsonString(desc.output, res.text) as Res<K>;
}

/** What an error carries, on either surface. */
interface Failure {
  readonly code: Code;
  readonly message: string;
  readonly id: string | undefined;
  readonly field: string | undefined;
}

/** The gRPC failure of a call (grpc-js ServiceError decoded, ErrorDetail included). */
async function grpcFailure(call: Promise<unknown> | (() => Promise<unknown>)): Promise<Failure> {
  try {
    await (typeof call === "function" ? call() : call);
  } catch (err) {
    if (!isServiceError(err)) throw err;
    return serviceFailure(err);
  }
  throw new Error("expected the gRPC call to fail");
}

function serviceFailure(err: ServiceError): Failure {
  const detail = grpcErrorDetails(err, ErrorDetailSchema)[0];
  return { code: err.code as Code, message: err.details, id: detail?.id, field: detail?.field || undefined };
}

/** The Connect JSON failure of a raw request body, with the HTTP status checked against the code. */
async function jsonFailure(procedure: string, body: string): Promise<Failure & { status: number }> {
  const res = await postConnect(procedure, body);
  const parsed = JSON.parse(res.text) as { code: string; message: string; details?: { type: string; value: string }[] };
  const detailJson = parsed.details?.find((d) => d.type === "mlpipe.common.v1.ErrorDetail");
  const detail =
    detailJson === undefined ? undefined : fromBinary(ErrorDetailSchema, Buffer.from(detailJson.value, "base64"));
  const code = (Object.values(Code) as Code[]).find((c) => codeName(c) === parsed.code);
  if (code === undefined) throw new Error(`unknown code ${parsed.code}`);
  expect(res.status, `HTTP status of ${parsed.code}`).toBe(codeToHttpStatus(code));
  return { status: res.status, code, message: parsed.message, id: detail?.id, field: detail?.field || undefined };
}

interface Expected {
  readonly code: Code;
  readonly id?: string;
  readonly field?: string;
  readonly message?: string | RegExp;
}

function check(failure: Failure, expected: Expected, surface: string): void {
  expect(failure.code, `${surface} code (${failure.message})`).toBe(expected.code);
  if (expected.id !== undefined) expect(failure.id, `${surface} id`).toBe(expected.id);
  if (expected.field !== undefined) expect(failure.field, `${surface} field`).toBe(expected.field);
  if (typeof expected.message === "string") expect(failure.message, `${surface} message`).toContain(expected.message);
  else if (expected.message !== undefined) expect(failure.message, `${surface} message`).toMatch(expected.message);
}

/** Calls `method` over gRPC and over Connect JSON and expects the same error from both. */
async function expectBoth<K extends UnaryName>(method: K, request: Req<K>, expected: Expected): Promise<void> {
  check(await grpcFailure(callGrpc(method, request)), expected, "gRPC");
  const desc: { name: string; input: DescMessage } = svc[method];
  check(await jsonFailure(desc.name, toJsonString(desc.input, create(desc.input, request))), expected, "Connect JSON");
}

let nameCounter = 0;
const uniqueName = (prefix: string) => `${prefix}-${++nameCounter}-${Date.now()}`;

async function newExperiment(): Promise<string> {
  const res = await callGrpc("createExperiment", { name: uniqueName("exp") });
  return res.experiment?.experimentId ?? "";
}

async function newRun(experimentId = "0"): Promise<string> {
  const res = await callGrpc("createRun", { experimentId });
  return res.run?.info?.runId ?? "";
}

const missingRunId = "0123456789abcdef0123456789abcdef";
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

async function* uploadMessages(
  header: { runId: string; path: string; expectedSha256?: string },
  data: Uint8Array,
  chunkBytes = MiB,
): AsyncIterable<Upload> {
  yield { content: { case: "header", value: header } };
  for (let offset = 0; offset < data.byteLength; offset += chunkBytes) {
    yield { content: { case: "chunk", value: data.subarray(offset, offset + chunkBytes) } };
  }
}

async function download(runId: string, path: string): Promise<DownloadArtifactResponse[]> {
  const messages: DownloadArtifactResponse[] = [];
  for await (const m of grpc.downloadArtifact({ runId, path })) messages.push(m);
  return messages;
}

describe("experiments", () => {
  it("creates, reads, renames, tags, searches, deletes, restores and purges", async () => {
    const name = uniqueName("lifecycle");
    const created = (await callJson("createExperiment", { name, tags: { team: "ml" } })).experiment;
    const id = created?.experimentId ?? "";
    expect(created).toMatchObject({ name, lifecycleStage: LifecycleStage.ACTIVE, tags: { team: "ml" } });
    expect(created?.artifactLocation).toMatch(/^file:\/\/.*\/artifacts\/\d+$/);

    expect((await callGrpc("getExperiment", { experimentId: id })).experiment?.name).toBe(name);
    expect((await callJson("getExperimentByName", { name })).experiment?.experimentId).toBe(id);

    const renamed = `${name}-renamed`;
    expect((await callJson("updateExperiment", { experimentId: id, newName: renamed })).experiment?.name).toBe(renamed);
    await callGrpc("setExperimentTag", { experimentId: id, key: "stage", value: "dev" });
    await callJson("deleteExperimentTag", { experimentId: id, key: "team" });
    expect((await callJson("getExperiment", { experimentId: id })).experiment?.tags).toEqual({ stage: "dev" });

    const found = await callGrpc("searchExperiments", { filter: `name = '${renamed}' AND tags.stage = 'dev'` });
    expect(found.experiments.map((e) => e.experimentId)).toEqual([id]);

    await callGrpc("deleteExperiment", { experimentId: id });
    expect((await callGrpc("getExperiment", { experimentId: id })).experiment?.lifecycleStage).toBe(
      LifecycleStage.DELETED,
    );
    const deletedOnly = await callJson("searchExperiments", {
      filter: `name = '${renamed}'`,
      viewType: ViewType.DELETED_ONLY,
    });
    expect(deletedOnly.experiments.map((e) => e.experimentId)).toEqual([id]);
    await callJson("restoreExperiment", { experimentId: id });
    expect((await callJson("getExperiment", { experimentId: id })).experiment?.lifecycleStage).toBe(
      LifecycleStage.ACTIVE,
    );
  });

  it("frees a deleted experiment's name at once; restoring then conflicts", async () => {
    const name = uniqueName("reuse");
    const first = (await callGrpc("createExperiment", { name })).experiment?.experimentId ?? "";
    await expectBoth(
      "createExperiment",
      { name },
      { code: Code.AlreadyExists, id: "TRACKING_EXPERIMENT_ALREADY_EXISTS", field: "name" },
    );
    await callGrpc("deleteExperiment", { experimentId: first });
    const second = (await callJson("createExperiment", { name })).experiment?.experimentId ?? "";
    expect(second).not.toBe(first);
    expect((await callGrpc("getExperimentByName", { name })).experiment?.experimentId).toBe(second);
    await expectBoth("restoreExperiment", { experimentId: first }, { code: Code.AlreadyExists });
  });

  it("answers NOT_FOUND for unknown experiments and tags", async () => {
    await expectBoth(
      "getExperiment",
      { experimentId: "987654321" },
      { code: Code.NotFound, id: "TRACKING_EXPERIMENT_NOT_FOUND" },
    );
    await expectBoth(
      "getExperimentByName",
      { name: uniqueName("nobody") },
      { code: Code.NotFound, id: "TRACKING_EXPERIMENT_NOT_FOUND" },
    );
    await expectBoth("deleteExperiment", { experimentId: "987654321" }, { code: Code.NotFound });
    const id = await newExperiment();
    await expectBoth(
      "deleteExperimentTag",
      { experimentId: id, key: "absent" },
      { code: Code.NotFound, id: "TRACKING_TAG_NOT_FOUND" },
    );
  });

  it("rejects bad names, ids, keys and values, naming the field", async () => {
    await expectBoth(
      "createExperiment",
      { name: "" },
      { code: Code.InvalidArgument, id: "INVALID_ARGUMENT", field: "name" },
    );
    await expectBoth(
      "createExperiment",
      { name: "x".repeat(501) },
      { code: Code.InvalidArgument, field: "name", message: "500" },
    );
    await expectBoth(
      "createExperiment",
      { name: uniqueName("t"), tags: { "bad key!": "v" } },
      { code: Code.InvalidArgument, field: 'tags["bad key!"].key' },
    );
    await expectBoth("getExperiment", { experimentId: "abc" }, { code: Code.InvalidArgument, field: "experiment_id" });
    await expectBoth("getExperiment", { experimentId: "" }, { code: Code.InvalidArgument, field: "experiment_id" });
    await expectBoth(
      "updateExperiment",
      { experimentId: "0", newName: "" },
      { code: Code.InvalidArgument, field: "new_name" },
    );
    await expectBoth(
      "setExperimentTag",
      { experimentId: "0", key: "../up", value: "v" },
      { code: Code.InvalidArgument, field: "key" },
    );
    await expectBoth(
      "setExperimentTag",
      { experimentId: "0", key: "k", value: "v".repeat(8001) },
      { code: Code.InvalidArgument, field: "value" },
    );
    await expectBoth("searchExperiments", { maxResults: 1001 }, { code: Code.InvalidArgument, field: "max_results" });
  });

  it("rejects a malformed filter with its position, and a bad page token", async () => {
    await expectBoth(
      "searchExperiments",
      { filter: "name = 'a' AND" },
      { code: Code.InvalidArgument, id: "TRACKING_INVALID_FILTER", field: "filter", message: /position \d+/ },
    );
    await expectBoth(
      "searchExperiments",
      { pageToken: "not-a-token" },
      { code: Code.InvalidArgument, id: "INVALID_PAGE_TOKEN", field: "page_token" },
    );
  });

  it("pages through experiments with keyset tokens", async () => {
    const prefix = uniqueName("page");
    for (let i = 0; i < 5; i++) await callGrpc("createExperiment", { name: `${prefix}-${i}` });
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await callJson("searchExperiments", {
        filter: `name LIKE '${prefix}-%'`,
        maxResults: 2,
        orderBy: ["name ASC"],
        pageToken,
      });
      expect(page.experiments.length).toBeLessThanOrEqual(2);
      seen.push(...page.experiments.map((e) => e.name));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `${prefix}-${i}`));
  });

  it("purges only deleted experiments, with their runs and artifact files", async () => {
    const id = await newExperiment();
    const runId = await newRun(id);
    const data = randomBytes(1000);
    await grpc.uploadArtifact(uploadMessages({ runId, path: "data/file.bin" }, data));
    const dir = join(server.dataDir, "artifacts", id);
    expect(existsSync(join(dir, runId, "artifacts", "data", "file.bin"))).toBe(true);

    await expectBoth(
      "purgeExperiment",
      { experimentId: id },
      { code: Code.FailedPrecondition, id: "TRACKING_EXPERIMENT_NOT_DELETED" },
    );
    await callGrpc("deleteExperiment", { experimentId: id });
    await callJson("purgeExperiment", { experimentId: id });
    expect(existsSync(dir)).toBe(false);
    await expectBoth("getExperiment", { experimentId: id }, { code: Code.NotFound });
    await expectBoth("getRun", { runId }, { code: Code.NotFound, id: "TRACKING_RUN_NOT_FOUND" });
  });
});

describe("runs", () => {
  it("creates, reads, updates, deletes and restores a run", async () => {
    const experimentId = await newExperiment();
    const created = (
      await callJson("createRun", { experimentId, runName: "first", tags: [{ key: "owner", value: "ana" }] })
    ).run;
    const runId = created?.info?.runId ?? "";
    expect(runId).toMatch(/^[0-9a-f]{32}$/);
    expect(created?.info).toMatchObject({
      experimentId,
      runName: "first",
      status: RunStatus.RUNNING,
      lifecycleStage: LifecycleStage.ACTIVE,
    });
    expect(created?.info?.startTime).toBeGreaterThan(0n);
    expect(created?.info?.artifactUri).toMatch(new RegExp(`/artifacts/${experimentId}/${runId}/artifacts$`));
    expect((await callGrpc("getRun", { runId })).run?.data?.tags).toMatchObject({ owner: "ana" });

    const updated = (await callGrpc("updateRun", { runId, status: RunStatus.FINISHED, runName: "renamed" })).runInfo;
    expect(updated).toMatchObject({ status: RunStatus.FINISHED, runName: "renamed" });
    expect(updated?.endTime).toBeGreaterThan(0n);
    const ended = (await callJson("updateRun", { runId, endTime: 1234n })).runInfo;
    expect(ended).toMatchObject({ status: RunStatus.FINISHED, endTime: 1234n });

    await callJson("deleteRun", { runId });
    expect((await callJson("getRun", { runId })).run?.info?.lifecycleStage).toBe(LifecycleStage.DELETED);
    await callGrpc("restoreRun", { runId });
    expect((await callGrpc("getRun", { runId })).run?.info?.lifecycleStage).toBe(LifecycleStage.ACTIVE);
  });

  it("creates runs in the Default experiment when none is named", async () => {
    const run = (await callJson("createRun", {})).run;
    expect(run?.info?.experimentId).toBe("0");
    expect(run?.info?.runName).not.toBe("");
  });

  it("logs params, metrics and tags and reads them back", async () => {
    const runId = await newRun();
    await callGrpc("logParam", { runId, key: "lr", value: "0.1" });
    await callJson("logParam", { runId, key: "lr", value: "0.1" });
    await callJson("logMetric", { runId, metric: { key: "loss", value: 0.5, timestamp: 10n, step: 1n } });
    await callGrpc("logMetric", { runId, metric: { key: "loss", value: 0.25, timestamp: 0n, step: 2n } });
    await callGrpc("setRunTag", { runId, key: "note", value: "one" });
    await callJson("setRunTag", { runId, key: "note", value: "two" });
    await callGrpc("setRunTag", { runId, key: "gone", value: "x" });
    await callJson("deleteRunTag", { runId, key: "gone" });

    const data = (await callJson("getRun", { runId })).run?.data;
    expect(data?.params).toEqual({ lr: "0.1" });
    expect(data?.tags).toMatchObject({ note: "two" });
    expect(data?.tags.gone).toBeUndefined();
    expect(data?.metrics.map((m) => [m.key, m.value, m.step])).toEqual([["loss", 0.25, 2n]]);

    const history = await callGrpc("getMetricHistory", { runId, metricKey: "loss" });
    expect(history.metrics.map((m) => m.value)).toEqual([0.5, 0.25]);
    // Timestamp 0 means "now".
    expect(history.metrics[1]?.timestamp).toBeGreaterThan(1_000_000_000_000n);
  });

  it("answers NOT_FOUND for unknown runs and tags", async () => {
    await expectBoth("getRun", { runId: missingRunId }, { code: Code.NotFound, id: "TRACKING_RUN_NOT_FOUND" });
    await expectBoth(
      "logParam",
      { runId: missingRunId, key: "k", value: "v" },
      { code: Code.NotFound, id: "TRACKING_RUN_NOT_FOUND" },
    );
    await expectBoth(
      "createRun",
      { experimentId: "987654321" },
      { code: Code.NotFound, id: "TRACKING_EXPERIMENT_NOT_FOUND" },
    );
    const runId = await newRun();
    await expectBoth("deleteRunTag", { runId, key: "absent" }, { code: Code.NotFound, id: "TRACKING_TAG_NOT_FOUND" });
  });

  it("rejects bad ids, keys, values, timestamps and batch sizes, naming the field", async () => {
    const runId = await newRun();
    await expectBoth("getRun", { runId: "not-a-run-id" }, { code: Code.InvalidArgument, field: "run_id" });
    await expectBoth("logParam", { runId, key: "bad key!", value: "v" }, { code: Code.InvalidArgument, field: "key" });
    await expectBoth("logParam", { runId, key: "/abs", value: "v" }, { code: Code.InvalidArgument, field: "key" });
    await expectBoth(
      "logParam",
      { runId, key: "p", value: "v".repeat(6001) },
      { code: Code.InvalidArgument, field: "value", message: "6000" },
    );
    await expectBoth(
      "setRunTag",
      { runId, key: "t", value: "v".repeat(8001) },
      { code: Code.InvalidArgument, field: "value" },
    );
    await expectBoth("logMetric", { runId }, { code: Code.InvalidArgument, field: "metric" });
    await expectBoth(
      "logMetric",
      { runId, metric: { key: "m", value: 1, timestamp: -5n } },
      { code: Code.InvalidArgument, field: "metric.timestamp" },
    );
    await expectBoth("createRun", { runName: "r".repeat(251) }, { code: Code.InvalidArgument, field: "run_name" });
    await expectBoth("updateRun", { runId, status: 42 as RunStatus }, { code: Code.InvalidArgument, field: "status" });

    const metrics = [0, 1, 2, 3].map((i) => ({ key: i === 3 ? "bad..key/../x" : `m${i}`, value: 1, timestamp: 1n }));
    await expectBoth("logBatch", { runId, metrics }, { code: Code.InvalidArgument, field: "metrics[3].key" });
    await expectBoth(
      "logBatch",
      { runId, metrics: Array.from({ length: 1001 }, () => ({ key: "m", value: 1, timestamp: 1n })) },
      { code: Code.InvalidArgument, field: "metrics", message: "1000" },
    );
    await expectBoth(
      "logBatch",
      { runId, params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: "v" })) },
      { code: Code.InvalidArgument, field: "params" },
    );
    await expectBoth(
      "logBatch",
      { runId, tags: Array.from({ length: 101 }, (_, i) => ({ key: `t${i}`, value: "v" })) },
      { code: Code.InvalidArgument, field: "tags" },
    );
    await expectBoth(
      "logBatch",
      {
        runId,
        params: [
          { key: "a", value: "1" },
          { key: "a", value: "2" },
        ],
      },
      { code: Code.InvalidArgument, field: "params[1].key" },
    );
    await expectBoth("logBatch", { runId, batchId: "has space" }, { code: Code.InvalidArgument, field: "batch_id" });
    // Nothing of the rejected batches was stored.
    expect((await callGrpc("getRun", { runId })).run?.data).toMatchObject({ metrics: [], params: {} });
  });

  it("keeps params immutable across calls", async () => {
    const runId = await newRun();
    await callGrpc("logParam", { runId, key: "lr", value: "0.1" });
    await expectBoth(
      "logParam",
      { runId, key: "lr", value: "0.2" },
      { code: Code.InvalidArgument, id: "TRACKING_PARAM_CHANGED" },
    );
  });

  it("refuses to log to a deleted run", async () => {
    const runId = await newRun();
    await callGrpc("deleteRun", { runId });
    const notActive = { code: Code.FailedPrecondition, id: "TRACKING_RUN_NOT_ACTIVE" };
    await expectBoth("logParam", { runId, key: "k", value: "v" }, notActive);
    await expectBoth("logMetric", { runId, metric: { key: "m", value: 1 } }, notActive);
    await expectBoth("setRunTag", { runId, key: "k", value: "v" }, notActive);
    await expectBoth("logBatch", { runId, metrics: [{ key: "m", value: 1 }] }, notActive);
    await expectBoth(
      "restoreRun",
      { runId: await newRun() },
      { code: Code.FailedPrecondition, id: "TRACKING_RUN_NOT_DELETED" },
    );
  });

  it("stores a retried LogBatch with the same batch_id once", async () => {
    const runId = await newRun();
    const batch = {
      runId,
      batchId: "3f0c2a9e-batch:1",
      metrics: [1, 2, 3].map((step) => ({ key: "acc", value: step / 10, timestamp: 100n, step: BigInt(step) })),
      params: [{ key: "bs", value: "32" }],
    };
    expect((await callGrpc("logBatch", batch)).duplicate).toBe(false);
    expect((await callGrpc("logBatch", batch)).duplicate).toBe(true);
    expect((await callJson("logBatch", batch)).duplicate).toBe(true);
    const history = await callJson("getMetricHistory", { runId, metricKey: "acc" });
    expect(history.metrics.map((m) => m.step)).toEqual([1n, 2n, 3n]);
    // Without a batch_id every call stores its points.
    await callGrpc("logBatch", { ...batch, batchId: "" });
    expect((await callGrpc("getMetricHistory", { runId, metricKey: "acc" })).metrics).toHaveLength(6);
  });

  it("round-trips NaN and ±Infinity over Connect JSON and binary gRPC", async () => {
    const runId = await newRun();
    const body = JSON.stringify({
      runId,
      metrics: [
        { key: "nan", value: "NaN", timestamp: "1", step: "0" },
        { key: "inf", value: "Infinity", timestamp: "1", step: "0" },
        { key: "ninf", value: "-Infinity", timestamp: "1", step: "0" },
      ],
    });
    expect((await postConnect("LogBatch", body)).status).toBe(200);
    await callGrpc("logMetric", { runId, metric: { key: "nan2", value: Number.NaN, timestamp: 1n } });

    const metrics = (await callGrpc("getRun", { runId })).run?.data?.metrics ?? [];
    const byKey = new Map(metrics.map((m) => [m.key, m.value]));
    expect(byKey.get("nan")).toBeNaN();
    expect(byKey.get("nan2")).toBeNaN();
    expect(byKey.get("inf")).toBe(Number.POSITIVE_INFINITY);
    expect(byKey.get("ninf")).toBe(Number.NEGATIVE_INFINITY);

    const raw = await postConnect("GetMetricHistory", JSON.stringify({ runId, metricKey: "nan2" }));
    expect(JSON.parse(raw.text)).toMatchObject({ metrics: [{ key: "nan2", value: "NaN" }] });
    const inf = await postConnect("GetMetricHistory", JSON.stringify({ runId, metricKey: "ninf" }));
    expect(JSON.parse(inf.text)).toMatchObject({ metrics: [{ value: "-Infinity" }] });
  });

  it("searches runs with a filter and order, and rejects malformed filters and tokens", async () => {
    const experimentId = await newExperiment();
    for (const [name, acc] of [
      ["a", 0.7],
      ["b", 0.95],
      ["c", 0.91],
    ] as const) {
      const runId = (await callGrpc("createRun", { experimentId, runName: name })).run?.info?.runId ?? "";
      await callGrpc("logMetric", { runId, metric: { key: "acc", value: acc, timestamp: 1n } });
    }
    const found = await callJson("searchRuns", {
      experimentIds: [experimentId],
      filter: "metrics.acc > 0.9",
      orderBy: ["metrics.acc DESC"],
    });
    expect(found.runs.map((r) => r.info?.runName)).toEqual(["b", "c"]);

    await expectBoth(
      "searchRuns",
      { experimentIds: [experimentId], filter: "metrics.acc >" },
      { code: Code.InvalidArgument, id: "TRACKING_INVALID_FILTER", field: "filter", message: /position \d+/ },
    );
    await expectBoth(
      "searchRuns",
      { experimentIds: [experimentId], pageToken: "bogus" },
      { code: Code.InvalidArgument, id: "INVALID_PAGE_TOKEN", field: "page_token" },
    );
    await expectBoth("searchRuns", { experimentIds: [] }, { code: Code.InvalidArgument, field: "experiment_ids" });
    await expectBoth(
      "searchRuns",
      { experimentIds: ["0", "x"] },
      { code: Code.InvalidArgument, field: "experiment_ids[1]" },
    );
    await expectBoth(
      "searchRuns",
      { experimentIds: ["0"], maxResults: 50_001 },
      { code: Code.InvalidArgument, field: "max_results" },
    );
    await expectBoth(
      "searchRuns",
      { experimentIds: ["0"], orderBy: ["a", "b", "c", "d"] },
      { code: Code.InvalidArgument, field: "order_by" },
    );
    await expectBoth(
      "getMetricHistory",
      { runId: missingRunId, metricKey: "acc", pageToken: "bogus" },
      { code: Code.InvalidArgument },
    );
  });
});

describe("artifacts", () => {
  it("uploads ~30 MiB in 1 MiB chunks, lists it and downloads it intact", async () => {
    const runId = await newRun();
    const data = randomBytes(30 * MiB + 12345);
    const digest = sha256(data);
    const uploaded = await grpc.uploadArtifact(
      uploadMessages({ runId, path: "model/model.onnx", expectedSha256: digest }, data),
    );
    expect(uploaded.file).toMatchObject({
      path: "model/model.onnx",
      isDir: false,
      fileSize: BigInt(data.byteLength),
      sha256: digest,
    });
    await grpc.uploadArtifact(uploadMessages({ runId, path: "model/MLmodel" }, Buffer.from("flavors: {}\n")));
    await grpc.uploadArtifact(uploadMessages({ runId, path: "README.md" }, Buffer.from("# run\n")));

    const messages = await download(runId, "model/model.onnx");
    const [first, ...rest] = messages;
    expect(first?.content).toMatchObject({ case: "info", value: { path: "model/model.onnx", sha256: digest } });
    const chunks = rest.map((m) => (m.content.case === "chunk" ? m.content.value : new Uint8Array()));
    expect(rest.every((m) => m.content.case === "chunk")).toBe(true);
    expect(Math.max(...chunks.map((c) => c.byteLength))).toBeLessThanOrEqual(MiB);
    expect(sha256(Buffer.concat(chunks))).toBe(digest);

    const root = await callJson("listArtifacts", { runId });
    expect(root.rootUri).toMatch(new RegExp(`${runId}/artifacts$`));
    expect(root.files.map((f) => [f.path, f.isDir])).toEqual([
      ["README.md", false],
      ["model", true],
    ]);
    const model = await callGrpc("listArtifacts", { runId, path: "model" });
    expect(model.files.map((f) => [f.path, f.fileSize])).toEqual([
      ["model/MLmodel", 12n],
      ["model/model.onnx", BigInt(data.byteLength)],
    ]);
  });

  it("replaces a file uploaded again at the same path", async () => {
    const runId = await newRun();
    await grpc.uploadArtifact(uploadMessages({ runId, path: "a.txt" }, Buffer.from("old")));
    await grpc.uploadArtifact(uploadMessages({ runId, path: "a.txt" }, Buffer.from("new!")));
    const [, ...chunks] = await download(runId, "a.txt");
    expect(
      Buffer.concat(chunks.map((c) => (c.content.case === "chunk" ? c.content.value : new Uint8Array()))).toString(),
    ).toBe("new!");
    expect((await callGrpc("listArtifacts", { runId })).files).toMatchObject([{ path: "a.txt", fileSize: 4n }]);
  });

  it("rejects an upload whose content does not match expected_sha256 and stores nothing", async () => {
    const runId = await newRun();
    const failure = await grpcFailure(() =>
      grpc.uploadArtifact(
        uploadMessages({ runId, path: "x.bin", expectedSha256: sha256(Buffer.from("other")) }, randomBytes(3 * MiB)),
      ),
    );
    check(
      failure,
      { code: Code.DataLoss, id: "TRACKING_ARTIFACT_CHECKSUM_MISMATCH", field: "expected_sha256" },
      "gRPC",
    );
    expect((await callJson("listArtifacts", { runId })).files).toEqual([]);
    check(
      await grpcFailure(() => download(runId, "x.bin")),
      { code: Code.NotFound, id: "TRACKING_ARTIFACT_NOT_FOUND" },
      "gRPC",
    );
  });

  it("rejects uploads without a header first, with bad paths, to missing or deleted runs", async () => {
    const runId = await newRun();
    async function* chunkFirst(): AsyncIterable<Upload> {
      yield { content: { case: "chunk", value: new Uint8Array([1]) } };
    }
    check(
      await grpcFailure(() => grpc.uploadArtifact(chunkFirst())),
      { code: Code.InvalidArgument, field: "header" },
      "gRPC",
    );
    check(await grpcFailure(() => grpc.uploadArtifact([])), { code: Code.InvalidArgument, field: "header" }, "gRPC");
    async function* twoHeaders(): AsyncIterable<Upload> {
      yield { content: { case: "header", value: { runId, path: "two.txt" } } };
      yield { content: { case: "header", value: { runId, path: "two.txt" } } };
    }
    check(
      await grpcFailure(() => grpc.uploadArtifact(twoHeaders())),
      { code: Code.InvalidArgument, field: "header" },
      "gRPC",
    );

    for (const path of ["../escape.txt", "a/../../b", "/etc/passwd", "a//b", "a/", "", "a\\b", "./a"]) {
      const failure = await grpcFailure(() => grpc.uploadArtifact(uploadMessages({ runId, path }, Buffer.from("x"))));
      check(failure, { code: Code.InvalidArgument, id: "INVALID_ARGUMENT", field: "header.path" }, `gRPC ${path}`);
    }
    check(
      await grpcFailure(() =>
        grpc.uploadArtifact(uploadMessages({ runId, path: "x", expectedSha256: "ABC" }, Buffer.from("x"))),
      ),
      { code: Code.InvalidArgument, field: "header.expected_sha256" },
      "gRPC",
    );
    check(
      await grpcFailure(() =>
        grpc.uploadArtifact(uploadMessages({ runId: missingRunId, path: "x" }, Buffer.from("x"))),
      ),
      { code: Code.NotFound, id: "TRACKING_RUN_NOT_FOUND" },
      "gRPC",
    );
    await callGrpc("deleteRun", { runId });
    check(
      await grpcFailure(() => grpc.uploadArtifact(uploadMessages({ runId, path: "x" }, Buffer.from("x")))),
      { code: Code.FailedPrecondition, id: "TRACKING_RUN_NOT_ACTIVE" },
      "gRPC",
    );
    await callGrpc("restoreRun", { runId });
    expect((await callGrpc("listArtifacts", { runId })).files).toEqual([]);
    expect(existsSync(join(server.dataDir, "escape.txt"))).toBe(false);
  });

  it("rejects bad paths and unknown files on download and list, on both surfaces", async () => {
    const runId = await newRun();
    for (const path of ["..", "../x", "/abs", "a//b"]) {
      check(
        await grpcFailure(() => download(runId, path)),
        { code: Code.InvalidArgument, field: "path" },
        `gRPC download ${path}`,
      );
      await expectBoth("listArtifacts", { runId, path }, { code: Code.InvalidArgument, field: "path" });
    }
    check(
      await grpcFailure(() => download(runId, "missing.txt")),
      { code: Code.NotFound, id: "TRACKING_ARTIFACT_NOT_FOUND", message: 'no artifact file "missing.txt"' },
      "gRPC",
    );
    check(
      await grpcFailure(() => download(missingRunId, "a/b.txt")),
      { code: Code.NotFound, id: "TRACKING_RUN_NOT_FOUND" },
      "gRPC",
    );
    await expectBoth("listArtifacts", { runId: missingRunId }, { code: Code.NotFound, id: "TRACKING_RUN_NOT_FOUND" });
  });

  it("refuses an upload chunk above MAX_REQUEST_BYTES and stores nothing", async () => {
    const runId = await newRun();
    const failure = await grpcFailure(() =>
      grpc.uploadArtifact(
        uploadMessages({ runId, path: "big.bin" }, randomBytes(maxRequestBytes + MiB), maxRequestBytes + MiB),
      ),
    );
    check(failure, { code: Code.ResourceExhausted }, "gRPC");
    expect((await callGrpc("listArtifacts", { runId })).files).toEqual([]);
  });
});

/** One enveloped message of the Connect streaming protocol: flags, big-endian length, payload. */
function envelope(json: unknown, flags = 0): Buffer {
  const payload = Buffer.from(JSON.stringify(json));
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(payload.byteLength, 1);
  return Buffer.concat([head, payload]);
}

/**
 * A streaming call with the Connect protocol over plain fetch (HTTP/1.1, JSON): sends the request
 * messages enveloped, returns the response messages and the end-of-stream error, if any.
 */
async function connectStream(
  procedure: string,
  requests: readonly unknown[],
): Promise<{ messages: Record<string, unknown>[]; error: { code: string; message: string } | undefined }> {
  const res = await fetch(`${server.url}/mlpipe.tracking.v1.TrackingService/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/connect+json" },
    body: Buffer.concat(requests.map((r) => envelope(r))),
  });
  expect(res.status).toBe(200);
  const body = Buffer.from(await res.arrayBuffer());
  const messages: Record<string, unknown>[] = [];
  let error: { code: string; message: string } | undefined;
  for (let offset = 0; offset < body.byteLength; ) {
    const flags = body.readUInt8(offset);
    const length = body.readUInt32BE(offset + 1);
    const json = JSON.parse(body.subarray(offset + 5, offset + 5 + length).toString()) as Record<string, unknown>;
    offset += 5 + length;
    if ((flags & 0b10) !== 0) error = json.error as { code: string; message: string } | undefined;
    else messages.push(json);
  }
  return { messages, error };
}

describe("artifacts over Connect JSON streams (HTTP/1.1)", () => {
  it("uploads and downloads with the Connect streaming protocol", async () => {
    const runId = await newRun();
    const data = randomBytes(100_000);
    const upload = await connectStream("UploadArtifact", [
      { header: { runId, path: "c/data.bin", expectedSha256: sha256(data) } },
      { chunk: data.subarray(0, 60_000).toString("base64") },
      { chunk: data.subarray(60_000).toString("base64") },
    ]);
    expect(upload.error).toBeUndefined();
    expect(upload.messages).toMatchObject([{ file: { path: "c/data.bin", fileSize: "100000", sha256: sha256(data) } }]);

    const download = await connectStream("DownloadArtifact", [{ runId, path: "c/data.bin" }]);
    expect(download.error).toBeUndefined();
    const [info, ...chunks] = download.messages;
    expect(info).toMatchObject({ info: { path: "c/data.bin", sha256: sha256(data) } });
    expect(Buffer.concat(chunks.map((c) => Buffer.from(String(c.chunk), "base64"))).equals(data)).toBe(true);
  });

  it("reports stream errors in the end-of-stream message", async () => {
    const runId = await newRun();
    const missing = await connectStream("DownloadArtifact", [{ runId, path: "missing.txt" }]);
    expect(missing.messages).toEqual([]);
    expect(missing.error).toMatchObject({
      code: "not_found",
      message: `run ${runId} has no artifact file "missing.txt"`,
    });
    const outside = await connectStream("DownloadArtifact", [{ runId, path: "../x" }]);
    expect(outside.error).toMatchObject({ code: "invalid_argument" });
    const noHeader = await connectStream("UploadArtifact", [{ chunk: "AAAA" }]);
    expect(noHeader.error).toMatchObject({ code: "invalid_argument", message: expect.stringContaining("header") });
    const badPath = await connectStream("UploadArtifact", [{ header: { runId, path: "/abs" } }, { chunk: "AAAA" }]);
    expect(badPath.error).toMatchObject({ code: "invalid_argument", message: expect.stringContaining("header.path") });
    const mismatch = await connectStream("UploadArtifact", [
      { header: { runId, path: "m.bin", expectedSha256: sha256(Buffer.from("x")) } },
      { chunk: "AAAA" },
    ]);
    expect(mismatch.error).toMatchObject({ code: "data_loss" });
    expect((await callJson("listArtifacts", { runId })).files).toEqual([]);
  });
});

describe("the network edge", () => {
  it("answers RESOURCE_EXHAUSTED to a request above MAX_REQUEST_BYTES", async () => {
    const runId = await newRun();
    const request = { runId, key: "big", value: "v".repeat(maxRequestBytes + 1) };
    check(await grpcFailure(callGrpc("logParam", request)), { code: Code.ResourceExhausted }, "gRPC");
    const failure = await jsonFailure("LogParam", JSON.stringify(request));
    check(failure, { code: Code.ResourceExhausted }, "Connect JSON");
    expect(failure.status).toBe(429);
    // The server is fine afterwards, on the same kind of connection.
    expect((await callJson("getRun", { runId })).run?.data?.params).toEqual({});
  });

  it("answers invalid_argument (HTTP 400) to malformed JSON and unknown fields", async () => {
    for (const body of ["{", "[]", '{"name": 5}', '{"name": "x", "nmae": "typo"}']) {
      const failure = await jsonFailure("CreateExperiment", body);
      expect(failure.status, body).toBe(400);
      expect(failure.code, body).toBe(Code.InvalidArgument);
    }
    const unknown = await jsonFailure("GetExperiment", JSON.stringify({ experimentId: "0", bogus: 1 }));
    expect(unknown.message).toContain("bogus");
  });

  it("answers 404 to unknown routes and UNIMPLEMENTED to unknown gRPC methods", async () => {
    const res = await fetch(`${server.url}/mlpipe.tracking.v1.TrackingService/NoSuchMethod`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: {
        code: "not_found",
        id: "ROUTE_NOT_FOUND",
        message: "no route for /mlpipe.tracking.v1.TrackingService/NoSuchMethod",
      },
    });

    const client = new Client(server.address, credentials.createInsecure());
    try {
      const err = await new Promise<ServiceError | null>((resolve) => {
        client.makeUnaryRequest(
          "/mlpipe.tracking.v1.TrackingService/NoSuchMethod",
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(0),
          new Metadata(),
          {},
          (e) => resolve(e),
        );
      });
      expect(err?.code).toBe(Code.Unimplemented);
      expect(err?.details).toBe("no route for /mlpipe.tracking.v1.TrackingService/NoSuchMethod");
    } finally {
      client.close();
    }
  });

  it("sends gRPC messages readable by grpc-js (no stray percent-encoding)", async () => {
    const runId = await newRun();
    const failure = await grpcFailure(() => download(runId, "dir/sub:file, 100%.txt"));
    expect(failure.message).toBe(`run ${runId} has no artifact file "dir/sub:file, 100%.txt"`);
  });
});
