/**
 * The registry service over real sockets: the gateway's Connect handler on a dual-protocol port,
 * called with grpc-js (gRPC) and fetch (Connect JSON), over PGlite and over a real PostgreSQL
 * shared by two registry instances. Artifacts are real ONNX files in a local blob store.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type DescMessage,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createLogger } from "../core/logger.js";
import { type DualProtocolServer, listenDualProtocol } from "../gateway/http/dual-protocol-server.js";
import { createConnectHandler } from "../gateway/protocol-connect/connect-handler.js";
import { ErrorDetailSchema } from "../gen/mlpipe/common/v1/error_pb.js";
import {
  ModelVersionStatus,
  RegistryEventType,
  RegistryService,
  Stage,
  type WatchRegisteredModelResponse,
} from "../gen/mlpipe/registry/v1/registry_pb.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import { createLocalBlobStore } from "../storage/blob/local-blob-store.js";
import { migrate } from "../storage/sql/migrate.js";
import { createPgClient } from "../storage/sql/pg-client.js";
import { createPgliteClient } from "../storage/sql/pglite-client.js";
import type { SqlClient } from "../storage/sql/sql-client.js";
import {
  createGrpcClient,
  type GrpcCallOptions,
  grpcErrorDetails,
  isServiceError,
} from "../test/support/grpc-client.js";
import { irisBias, irisWeights } from "../test/support/onnx-models.js";
import { startPostgres, type TestPostgres } from "../test/support/postgres.js";
import { createSqlTrackingStore } from "../tracking/sql-tracking-store.js";
import { buildLinearClassifier } from "../training/onnx-model-builder.js";
import { createRegistryService } from "./registry-service.js";
import { createSqlRegistryStore } from "./sql-registry-store.js";
import { createWatchHub, type WatchHub } from "./watch-hub.js";

const logger = createLogger({ level: "silent" });

/** One registry instance: its own database client, watch hub and listener. */
interface Replica {
  readonly url: string;
  readonly address: string;
  stop(): Promise<void>;
}

async function startReplica(
  client: SqlClient,
  blobs: BlobStore,
  pollIntervalMs: number,
  watchHeartbeatMs = 60 * 60_000,
): Promise<Replica> {
  const store = createSqlRegistryStore(client);
  const watchHub: WatchHub = createWatchHub({
    client,
    latestSequences: (ids) => store.latestSequences(ids),
    pollIntervalMs,
    logger,
  });
  await watchHub.start();
  // Tracking's store answers the registry's run-artifact lookups, as in app/registry-server.ts.
  const runArtifacts = createSqlTrackingStore(client, { artifactRootUri: blobs.rootUri });
  const service = createRegistryService({ store, runArtifacts, blobs, watchHub, logger, watchHeartbeatMs });
  const handler = createConnectHandler({
    routes: (router) => router.service(RegistryService, service),
    maxRequestBytes: 16 * 1024 * 1024,
    logger,
  });
  const server: DualProtocolServer = await listenDualProtocol({ handler, host: "127.0.0.1", port: 0, logger });
  return {
    url: server.url,
    address: `127.0.0.1:${server.port}`,
    async stop() {
      await watchHub.close();
      await server.close(0);
    },
  };
}

// --- calls through the shared grpc-js test client, as outcomes ----------------------------------

/** The outcome of a call: the response, or the status with the ErrorDetail the server attached. */
type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly code: number;
      readonly message: string;
      readonly id: string;
      readonly field: string;
    };

type RegistryClient = ReturnType<typeof grpcClient>;

function grpcClient(address: string) {
  return createGrpcClient(RegistryService, address);
}

function failure(err: unknown): Outcome<never> {
  if (!isServiceError(err)) throw err;
  const detail = grpcErrorDetails(err, ErrorDetailSchema)[0];
  return { ok: false, code: err.code, message: err.details, id: detail?.id ?? "", field: detail?.field ?? "" };
}

/** A unary call by descriptor (so tables of cases can name any method), with an optional actor. */
async function grpcUnary<I extends DescMessage, O extends DescMessage>(
  client: RegistryClient,
  method: DescMethodUnary<I, O>,
  init: MessageInitShape<I>,
  actor?: string,
): Promise<Outcome<MessageShape<O>>> {
  const call = (
    client as unknown as Record<string, (r: MessageInitShape<I>, o: GrpcCallOptions) => Promise<MessageShape<O>>>
  )[method.localName];
  if (call === undefined) throw new Error(`no method ${method.localName}`);
  try {
    return { ok: true, value: await call(init, actor === undefined ? {} : { metadata: { "mlpipe-actor": actor } }) };
  } catch (err) {
    return failure(err);
  }
}

/** Collects a server stream: every message, then the error that ended it, if any. */
async function grpcServerStream<I extends DescMessage, O extends DescMessage>(
  client: RegistryClient,
  method: DescMethodServerStreaming<I, O>,
  init: MessageInitShape<I>,
): Promise<{ messages: MessageShape<O>[]; error: Outcome<never> | undefined }> {
  const call = (client as unknown as Record<string, (r: MessageInitShape<I>) => AsyncIterable<MessageShape<O>>>)[
    method.localName
  ];
  if (call === undefined) throw new Error(`no method ${method.localName}`);
  const messages: MessageShape<O>[] = [];
  try {
    for await (const m of call(init)) messages.push(m);
    return { messages, error: undefined };
  } catch (err) {
    return { messages, error: failure(err) };
  }
}

/** A Connect unary call with a JSON body through fetch (HTTP/1.1), as a browser or curl would. */
async function connectJson(
  baseUrl: string,
  methodName: string,
  body: unknown,
): Promise<{ status: number; code: string; id: string; field: string; json: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/mlpipe.registry.v1.RegistryService/${methodName}`, {
    method: "POST",
    headers: { "content-type": "application/json", "mlpipe-actor": "json-client" },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  const details = (json.details ?? []) as { type: string; value: string }[];
  const detail = details.find((d) => d.type === "mlpipe.common.v1.ErrorDetail");
  const parsed =
    detail === undefined
      ? { id: "", field: "" }
      : fromBinary(ErrorDetailSchema, Buffer.from(detail.value.replace(/-/g, "+").replace(/_/g, "/"), "base64"));
  return { status: res.status, code: String(json.code ?? ""), id: parsed.id, field: parsed.field, json };
}

// --- fixtures ------------------------------------------------------------------------------

/** Seeds an experiment and a run whose artifact `model.onnx` holds `bytes`, as the tracking service would. */
async function seedRun(client: SqlClient, blobs: BlobStore, runId: string, files: Record<string, Uint8Array>) {
  const exp = await client.query<{ experiment_id: string }>(
    `INSERT INTO experiments (name, artifact_location, creation_time, last_update_time)
     VALUES ($1, 'pending', 0, 0) RETURNING experiment_id`,
    [`exp-${runId}`],
  );
  const experimentId = exp.rows[0]?.experiment_id ?? "";
  const location = `${blobs.rootUri}/${experimentId}`;
  await client.query("UPDATE experiments SET artifact_location = $2 WHERE experiment_id = $1", [
    experimentId,
    location,
  ]);
  await client.query(
    `INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, artifact_uri)
     VALUES ($1, $2, $1, 'FINISHED', 0, $3)`,
    [runId, experimentId, `${location}/${runId}/artifacts`],
  );
  for (const [path, bytes] of Object.entries(files)) {
    const info = await blobs.put(
      `${experimentId}/${runId}/artifacts/${path}`,
      (async function* () {
        yield bytes;
      })(),
    );
    await client.query(
      "INSERT INTO run_artifacts (run_id, path, file_size, sha256, updated_time) VALUES ($1, $2, $3, $4, 0)",
      [runId, path, info.size, info.sha256],
    );
  }
}

const irisModel = buildLinearClassifier({ weights: irisWeights, bias: irisBias });
const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251);
/** A classifier over 600 features and 500 classes: 1.2 MB of weights, so downloads take several chunks. */
const bigModel = buildLinearClassifier({
  weights: Array.from({ length: 600 }, (_, f) => Array.from({ length: 500 }, (_, c) => ((f * 31 + c) % 17) / 17)),
  bias: Array.from({ length: 500 }, () => 0),
});

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** Reads a stream to its end, whether it ends cleanly or with an error (its server went away). */
async function drain(stream: AsyncIterator<unknown>): Promise<void> {
  try {
    for (;;) if ((await stream.next()).done === true) return;
  } catch {
    // Ended by the server's shutdown.
  }
}

// --- one replica over PGlite: the RPC surface and its error paths ---------------------------

describe("RegistryService over PGlite", () => {
  let dir: string;
  let client: SqlClient;
  let blobs: BlobStore;
  let replica: Replica;
  let grpcC: RegistryClient;
  const M = RegistryService.method;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mlpipe-registry-"));
    client = await createPgliteClient(undefined);
    await migrate(client);
    blobs = await createLocalBlobStore(join(dir, "artifacts"));
    await seedRun(client, blobs, "run1", { "model.onnx": irisModel, "garbage.onnx": garbage, "big.onnx": bigModel });
    replica = await startReplica(client, blobs, 200);
    grpcC = grpcClient(replica.address);
  });
  afterAll(async () => {
    grpcC?.close();
    await replica?.stop();
    await client?.close();
    await blobs?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("registers a version from a run, reads its signature, audits the actor, and serves its artifact", async () => {
    const created = await grpcUnary(grpcC, M.createRegisteredModel, { name: "iris", tags: { team: "ml" } }, "alice");
    expect(created.ok).toBe(true);
    const v = await grpcUnary(grpcC, M.createModelVersion, { name: "iris", source: "runs:/run1/model.onnx" }, "bob");
    if (!v.ok) throw new Error(v.message);
    const mv = v.value.modelVersion;
    expect(mv?.status).toBe(ModelVersionStatus.READY);
    expect(mv?.version).toBe(1n);
    expect(mv?.runId).toBe("run1");
    expect(mv?.createdBy).toBe("bob");
    expect(mv?.artifactSize).toBe(BigInt(irisModel.byteLength));
    expect(mv?.artifactSha256).toBe(sha256(irisModel));
    const input = mv?.signature?.inputs[0];
    expect([input?.name, input?.elementType, input?.isTensor]).toEqual(["features", "float32", true]);
    expect(input?.shape.map((d) => d.value)).toEqual([
      { case: "param", value: "batch" },
      { case: "size", value: 4n },
    ]);
    expect(mv?.signature?.outputs.map((o) => [o.name, o.elementType])).toEqual([
      ["label", "int64"],
      ["probabilities", "float32"],
    ]);

    const download = await grpcServerStream(grpcC, M.downloadModelVersion, { name: "iris", version: 1n });
    expect(download.error).toBeUndefined();
    const [first, ...rest] = download.messages;
    expect(first?.content.case).toBe("info");
    expect(first?.content.case === "info" ? first.content.value.sha256 : "").toBe(sha256(irisModel));
    const bytes = Buffer.concat(rest.map((m) => (m.content.case === "chunk" ? m.content.value : new Uint8Array())));
    expect(sha256(bytes)).toBe(sha256(irisModel));

    const events = await grpcUnary(grpcC, M.listRegistryEvents, { name: "iris" });
    if (!events.ok) throw new Error(events.message);
    expect(events.value.events.map((e) => [RegistryEventType[e.type], e.actor])).toEqual([
      ["MODEL_CREATED", "alice"],
      ["VERSION_CREATED", "bob"],
    ]);
  });

  it("registers from a blob URI under the root and streams a large artifact in chunks of at most 1 MiB", async () => {
    await grpcUnary(grpcC, M.createRegisteredModel, { name: "big" });
    const run = await grpcUnary(grpcC, M.createModelVersion, { name: "big", source: "runs:/run1/big.onnx" });
    if (!run.ok) throw new Error(run.message);
    const storage = run.value.modelVersion?.storageUri ?? "";
    // The registry's own copy is itself a valid source under the artifact root.
    const copy = await grpcUnary(grpcC, M.createModelVersion, { name: "big", source: storage });
    if (!copy.ok) throw new Error(copy.message);
    expect(copy.value.modelVersion?.status).toBe(ModelVersionStatus.READY);
    expect(copy.value.modelVersion?.artifactSha256).toBe(sha256(bigModel));
    const download = await grpcServerStream(grpcC, M.downloadModelVersion, { name: "big", version: 2n });
    const chunks = download.messages.slice(1).map((m) => (m.content.case === "chunk" ? m.content.value : undefined));
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(c !== undefined && c.byteLength <= 1024 * 1024).toBe(true);
    expect(sha256(Buffer.concat(chunks.filter((c) => c !== undefined)))).toBe(sha256(bigModel));
  });

  it("records a missing or invalid artifact as FAILED_REGISTRATION with the reason, never READY", async () => {
    await grpcUnary(grpcC, M.createRegisteredModel, { name: "broken" });
    const cases: [string, RegExp][] = [
      ["runs:/run1/garbage.onnx", /not a valid ONNX model/],
      ["runs:/run1/absent.onnx", /has no artifact file "absent.onnx"/],
      ["runs:/no-such-run/model.onnx", /run no-such-run does not exist/],
      [`${blobs.rootUri}/nothing/here.onnx`, /no artifact at/],
    ];
    for (const [source, reason] of cases) {
      const r = await grpcUnary(grpcC, M.createModelVersion, { name: "broken", source });
      if (!r.ok) throw new Error(r.message);
      expect(r.value.modelVersion?.status, source).toBe(ModelVersionStatus.FAILED_REGISTRATION);
      expect(r.value.modelVersion?.statusMessage, source).toMatch(reason);
      expect(r.value.modelVersion?.storageUri).toBe("");
    }
    const stage = await grpcUnary(grpcC, M.transitionModelVersionStage, {
      name: "broken",
      version: 1n,
      stage: Stage.PRODUCTION,
    });
    expect(stage.ok ? "" : stage.id).toBe("REGISTRY_VERSION_NOT_READY");
    const download = await grpcServerStream(grpcC, M.downloadModelVersion, { name: "broken", version: 1n });
    expect(download.error?.ok === false ? download.error.id : "").toBe("REGISTRY_VERSION_NOT_READY");
  });

  it("moves aliases and stages and answers by alias and latest stage", async () => {
    await grpcUnary(grpcC, M.createRegisteredModel, { name: "champ" });
    for (let i = 0; i < 2; i++)
      await grpcUnary(grpcC, M.createModelVersion, { name: "champ", source: "runs:/run1/model.onnx" });
    await grpcUnary(grpcC, M.setRegisteredModelAlias, { name: "champ", alias: "champion", version: 1n }, "carol");
    await grpcUnary(grpcC, M.setRegisteredModelAlias, { name: "champ", alias: "champion", version: 2n }, "carol");
    const byAlias = await grpcUnary(grpcC, M.getModelVersionByAlias, { name: "champ", alias: "champion" });
    expect(byAlias.ok ? byAlias.value.modelVersion?.version : 0n).toBe(2n);
    await grpcUnary(grpcC, M.transitionModelVersionStage, { name: "champ", version: 1n, stage: Stage.STAGING });
    await grpcUnary(grpcC, M.transitionModelVersionStage, {
      name: "champ",
      version: 2n,
      stage: Stage.STAGING,
      archiveExistingVersions: true,
    });
    const latest = await grpcUnary(grpcC, M.getLatestVersions, { name: "champ" });
    expect(latest.ok ? latest.value.modelVersions.map((v) => [v.currentStage, v.version]) : []).toEqual([
      [Stage.STAGING, 2n],
      [Stage.ARCHIVED, 1n],
    ]);
  });

  it("refuses a split or shadow naming a missing alias, and deleting an alias or version a route names", async () => {
    await grpcUnary(grpcC, M.createRegisteredModel, { name: "routed" });
    for (let i = 0; i < 2; i++)
      await grpcUnary(grpcC, M.createModelVersion, { name: "routed", source: "runs:/run1/model.onnx" });
    await grpcUnary(grpcC, M.setRegisteredModelAlias, { name: "routed", alias: "champion", version: 1n });
    await grpcUnary(grpcC, M.setRegisteredModelAlias, { name: "routed", alias: "challenger", version: 2n });
    const split = { name: "routed", key: "mlpipe.traffic_split", value: "champion=90,typo=10" };
    const g = await grpcUnary(grpcC, M.setRegisteredModelTag, split);
    expect(g.ok ? "ok" : [g.code, g.id, g.field, g.message]).toEqual([
      9,
      "REGISTRY_ROUTE_ALIAS_MISSING",
      "value",
      'mlpipe.traffic_split names alias "typo", which registered model "routed" does not have; set the alias first',
    ]);
    const j = await connectJson(replica.url, "SetRegisteredModelTag", {
      name: "routed",
      key: "mlpipe.shadow",
      value: "challenger=50,ghost=10",
    });
    expect([j.status, j.code, j.id, j.field]).toEqual([
      400,
      "failed_precondition",
      "REGISTRY_ROUTE_ALIAS_MISSING",
      "value",
    ]);
    expect(j.json.message).toMatch(/names alias "ghost"/);
    // A new model has no aliases, so a route in its first tags names a missing one.
    const created = await connectJson(replica.url, "CreateRegisteredModel", {
      name: "routed-new",
      tags: { "mlpipe.traffic_split": "champion=100" },
    });
    expect([created.status, created.id, created.field]).toEqual([
      400,
      "REGISTRY_ROUTE_ALIAS_MISSING",
      'tags["mlpipe.traffic_split"].value',
    ]);
    expect((await grpcUnary(grpcC, M.getRegisteredModel, { name: "routed-new" })).ok).toBe(false);
    // Nothing was set: the history has no tag event.
    const events = await grpcUnary(grpcC, M.listRegistryEvents, { name: "routed" });
    expect(events.ok ? events.value.events.map((e) => RegistryEventType[e.type]) : []).not.toContain("MODEL_TAG_SET");

    // With its aliases present the split is set; then neither alias nor version 2 can be deleted.
    expect((await grpcUnary(grpcC, M.setRegisteredModelTag, { ...split, value: "champion=90,challenger=10" })).ok).toBe(
      true,
    );
    const alias = await grpcUnary(grpcC, M.deleteRegisteredModelAlias, { name: "routed", alias: "challenger" });
    expect(alias.ok ? "ok" : [alias.code, alias.id, alias.field, alias.message]).toEqual([
      9,
      "REGISTRY_ALIAS_IN_USE",
      "alias",
      'alias "challenger" of registered model "routed" is still named by its mlpipe.traffic_split; change or clear it first',
    ]);
    const aliasJson = await connectJson(replica.url, "DeleteRegisteredModelAlias", {
      name: "routed",
      alias: "champion",
    });
    expect([aliasJson.status, aliasJson.code, aliasJson.id, aliasJson.field]).toEqual([
      400,
      "failed_precondition",
      "REGISTRY_ALIAS_IN_USE",
      "alias",
    ]);
    const version = await connectJson(replica.url, "DeleteModelVersion", { name: "routed", version: "2" });
    expect([version.status, version.id, version.field]).toEqual([400, "REGISTRY_ALIAS_IN_USE", "version"]);
    // The shadow holds its alias the same way; an alias no route names is deleted as before.
    await grpcUnary(grpcC, M.setRegisteredModelTag, {
      name: "routed",
      key: "mlpipe.traffic_split",
      value: "champion=100",
    });
    await grpcUnary(grpcC, M.setRegisteredModelTag, { name: "routed", key: "mlpipe.shadow", value: "challenger=100" });
    const shadowed = await grpcUnary(grpcC, M.deleteRegisteredModelAlias, { name: "routed", alias: "challenger" });
    expect(shadowed.ok ? "ok" : [shadowed.id, shadowed.message]).toEqual([
      "REGISTRY_ALIAS_IN_USE",
      'alias "challenger" of registered model "routed" is still named by its mlpipe.shadow; change or clear it first',
    ]);
    await grpcUnary(grpcC, M.deleteRegisteredModelTag, { name: "routed", key: "mlpipe.shadow" });
    expect((await grpcUnary(grpcC, M.deleteRegisteredModelAlias, { name: "routed", alias: "challenger" })).ok).toBe(
      true,
    );
    expect((await grpcUnary(grpcC, M.deleteModelVersion, { name: "routed", version: 2n })).ok).toBe(true);
  });

  it("watches a model: state first, then each change; a resumed watch misses nothing", async () => {
    await grpcUnary(grpcC, M.createRegisteredModel, { name: "watched" });
    await grpcUnary(grpcC, M.createModelVersion, { name: "watched", source: "runs:/run1/model.onnx" });
    const rpc = createClient(RegistryService, createGrpcTransport({ baseUrl: replica.url }));
    const abort = new AbortController();
    const stream = rpc.watchRegisteredModel({ name: "watched" }, { signal: abort.signal })[Symbol.asyncIterator]();
    const state = (await stream.next()).value as WatchRegisteredModelResponse;
    expect(state.content.case).toBe("state");
    const seq = state.content.case === "state" ? state.content.value.sequence : 0n;
    expect(state.content.case === "state" ? state.content.value.stages.map((s) => [s.stage, s.versions]) : []).toEqual([
      [Stage.NONE, [1n]],
    ]);
    await grpcUnary(
      grpcC,
      M.transitionModelVersionStage,
      { name: "watched", version: 1n, stage: Stage.PRODUCTION },
      "dan",
    );
    const change = (await stream.next()).value as WatchRegisteredModelResponse;
    expect(change.content.case === "event" ? [change.content.value.type, change.content.value.actor] : []).toEqual([
      RegistryEventType.STAGE_CHANGED,
      "dan",
    ]);
    abort.abort();
    // While nobody watches, two more changes; a watch resuming after `seq` gets all three in order.
    await grpcUnary(grpcC, M.setRegisteredModelAlias, { name: "watched", alias: "champion", version: 1n });
    await grpcUnary(grpcC, M.deleteRegisteredModel, { name: "watched" });
    const resumed: RegistryEventType[] = [];
    for await (const m of rpc.watchRegisteredModel({ name: "watched", afterSequence: seq })) {
      if (m.content.case === "event") resumed.push(m.content.value.type);
    }
    // The stream ended by itself after MODEL_DELETED (which implies its aliases and versions are gone).
    expect(resumed).toEqual([
      RegistryEventType.STAGE_CHANGED,
      RegistryEventType.ALIAS_SET,
      RegistryEventType.MODEL_DELETED,
    ]);
  });

  it("sends heartbeats carrying the watcher's position on a quiet stream", async () => {
    await grpcUnary(grpcC, M.createRegisteredModel, { name: "quiet" });
    const chatty = await startReplica(client, blobs, 10, 0);
    try {
      const rpc = createClient(RegistryService, createGrpcTransport({ baseUrl: chatty.url }));
      const abort = new AbortController();
      const stream = rpc.watchRegisteredModel({ name: "quiet" }, { signal: abort.signal })[Symbol.asyncIterator]();
      const state = (await stream.next()).value as WatchRegisteredModelResponse;
      const heartbeat = (await stream.next()).value as WatchRegisteredModelResponse;
      expect(heartbeat.content.case).toBe("heartbeat");
      expect(heartbeat.content.case === "heartbeat" ? heartbeat.content.value.sequence : -1n).toBe(
        state.content.case === "state" ? state.content.value.sequence : -2n,
      );
      abort.abort();
    } finally {
      await chatty.stop();
    }
  });

  describe("error paths, on gRPC (grpc-js) and Connect JSON (fetch)", () => {
    beforeAll(async () => {
      await grpcUnary(grpcC, M.createRegisteredModel, { name: "errs" });
      await grpcUnary(grpcC, M.createModelVersion, { name: "errs", source: "runs:/run1/garbage.onnx" });
    });

    /** [method, gRPC request, JSON request, gRPC code, Connect code, HTTP status, id, field] */
    const cases: [string, Record<string, unknown>, Record<string, unknown>, number, string, number, string, string][] =
      [
        [
          "getRegisteredModel",
          { name: "nope" },
          { name: "nope" },
          5,
          "not_found",
          404,
          "REGISTRY_MODEL_NOT_FOUND",
          "name",
        ],
        [
          "createRegisteredModel",
          { name: "errs" },
          { name: "errs" },
          6,
          "already_exists",
          409,
          "REGISTRY_MODEL_ALREADY_EXISTS",
          "name",
        ],
        [
          "renameRegisteredModel",
          { name: "errs", newName: "iris" },
          { name: "errs", newName: "iris" },
          6,
          "already_exists",
          409,
          "REGISTRY_MODEL_ALREADY_EXISTS",
          "new_name",
        ],
        [
          "getModelVersion",
          { name: "errs", version: 9n },
          { name: "errs", version: "9" },
          5,
          "not_found",
          404,
          "REGISTRY_VERSION_NOT_FOUND",
          "version",
        ],
        [
          "getModelVersionByAlias",
          { name: "errs", alias: "gone" },
          { name: "errs", alias: "gone" },
          5,
          "not_found",
          404,
          "REGISTRY_ALIAS_NOT_FOUND",
          "alias",
        ],
        [
          "deleteRegisteredModelAlias",
          { name: "errs", alias: "gone" },
          { name: "errs", alias: "gone" },
          5,
          "not_found",
          404,
          "REGISTRY_ALIAS_NOT_FOUND",
          "alias",
        ],
        [
          "deleteRegisteredModelTag",
          { name: "errs", key: "k" },
          { name: "errs", key: "k" },
          5,
          "not_found",
          404,
          "REGISTRY_TAG_NOT_FOUND",
          "key",
        ],
        ["createRegisteredModel", { name: "" }, { name: "" }, 3, "invalid_argument", 400, "INVALID_ARGUMENT", "name"],
        [
          "getModelVersion",
          { name: "errs", version: 0n },
          { name: "errs", version: "0" },
          3,
          "invalid_argument",
          400,
          "INVALID_ARGUMENT",
          "version",
        ],
        [
          "transitionModelVersionStage",
          { name: "errs", version: 1n },
          { name: "errs", version: "1" },
          3,
          "invalid_argument",
          400,
          "INVALID_ARGUMENT",
          "stage",
        ],
        [
          "transitionModelVersionStage",
          { name: "errs", version: 1n, stage: Stage.PRODUCTION },
          { name: "errs", version: "1", stage: "STAGE_PRODUCTION" },
          9,
          "failed_precondition",
          400,
          "REGISTRY_VERSION_NOT_READY",
          "version",
        ],
        [
          "setRegisteredModelAlias",
          { name: "errs", alias: "latest", version: 1n },
          { name: "errs", alias: "Latest", version: "1" },
          3,
          "invalid_argument",
          400,
          "INVALID_ARGUMENT",
          "alias",
        ],
        [
          "setRegisteredModelAlias",
          { name: "errs", alias: "v2", version: 1n },
          { name: "errs", alias: "V12", version: "1" },
          3,
          "invalid_argument",
          400,
          "INVALID_ARGUMENT",
          "alias",
        ],
        [
          "setRegisteredModelAlias",
          { name: "errs", alias: "not ok", version: 1n },
          { name: "errs", alias: "a/b", version: "1" },
          3,
          "invalid_argument",
          400,
          "INVALID_ARGUMENT",
          "alias",
        ],
        [
          "createModelVersion",
          { name: "errs", source: "runs:/only-run-id" },
          { name: "errs", source: "runs:/r/../x.onnx" },
          3,
          "invalid_argument",
          400,
          "INVALID_ARGUMENT",
          "source",
        ],
        [
          "createModelVersion",
          { name: "errs", source: "s3://elsewhere/model.onnx" },
          { name: "errs", source: "file:///etc/passwd" },
          3,
          "invalid_argument",
          400,
          "INVALID_ARGUMENT",
          "source",
        ],
        [
          "createModelVersion",
          { name: "nope", source: "runs:/run1/model.onnx" },
          { name: "nope", source: "runs:/run1/model.onnx" },
          5,
          "not_found",
          404,
          "REGISTRY_MODEL_NOT_FOUND",
          "name",
        ],
        [
          "searchRegisteredModels",
          { filter: "name ~ 'x'" },
          { filter: "tags.k >= 'x'" },
          3,
          "invalid_argument",
          400,
          "INVALID_ARGUMENT",
          "filter",
        ],
        [
          "searchModelVersions",
          { pageToken: "bm90LWEtdG9rZW4" },
          { pageToken: "x" },
          3,
          "invalid_argument",
          400,
          "INVALID_PAGE_TOKEN",
          "page_token",
        ],
        [
          "setRegisteredModelTag",
          { name: "errs", key: "mlpipe.rollout", value: "champion=a,challenger=a" },
          { name: "errs", key: "mlpipe.rollout", value: "champion=a,challenger=b,step=0" },
          3,
          "invalid_argument",
          400,
          "INVALID_ARGUMENT",
          "value",
        ],
        [
          "reportTrafficStats",
          { name: "errs", replicaId: "" },
          { name: "errs", replicaId: "" },
          3,
          "invalid_argument",
          400,
          "INVALID_ARGUMENT",
          "replica_id",
        ],
        [
          "reportTrafficStats",
          { name: "errs", replicaId: "r", versions: [{ version: 1n, requests: 1n, errors: 2n }] },
          { name: "errs", replicaId: "r", versions: [{ version: "1", requests: "1", errors: "2" }] },
          3,
          "invalid_argument",
          400,
          "INVALID_ARGUMENT",
          "versions[0].errors",
        ],
        [
          "reportTrafficStats",
          { name: "no-such-model", replicaId: "r" },
          { name: "no-such-model", replicaId: "r" },
          5,
          "not_found",
          404,
          "REGISTRY_MODEL_NOT_FOUND",
          "name",
        ],
        [
          "listRegistryEvents",
          { name: "errs", maxResults: 5000 },
          { name: "errs", maxResults: -1 },
          3,
          "invalid_argument",
          400,
          "INVALID_ARGUMENT",
          "max_results",
        ],
      ];

    for (const [method, grpcReq, jsonReq, grpcCode, connectCode, http, id, field] of cases) {
      it(`${method} ${JSON.stringify(jsonReq)} -> ${id}`, async () => {
        const desc = M[method as keyof typeof M] as DescMethodUnary<DescMessage, DescMessage>;
        const g = await grpcUnary(grpcC, desc, grpcReq as MessageInitShape<DescMessage>);
        expect(g.ok ? "ok" : [g.code, g.id, g.field]).toEqual([grpcCode, id, field]);
        const j = await connectJson(replica.url, desc.name, jsonReq);
        expect([j.status, j.code, j.id, j.field]).toEqual([http, connectCode, id, field]);
      });
    }

    it("rejects an actor header that is too long, on both surfaces", async () => {
      const g = await grpcUnary(
        grpcC,
        M.setRegisteredModelTag,
        { name: "errs", key: "k", value: "v" },
        "x".repeat(300),
      );
      expect(g.ok ? "ok" : [g.code, g.field]).toEqual([3, "mlpipe-actor"]);
    });
  });
});

// --- two replicas over one PostgreSQL: cross-replica watch, restart, racing promotions --------

describe("two registry replicas sharing one PostgreSQL", () => {
  let postgres: TestPostgres;
  let dir: string;
  let blobs: BlobStore;
  let clientA: SqlClient;
  let clientB: SqlClient;
  let a: Replica;
  let b: Replica;
  let grpcA: RegistryClient;
  let grpcB: RegistryClient;
  const M = RegistryService.method;
  /** Polls so rare that a change seen within the test came through NOTIFY/LISTEN. */
  const noPoll = 10 * 60_000;

  beforeAll(async () => {
    postgres = await startPostgres();
    const url = await postgres.createDatabase();
    dir = await mkdtemp(join(tmpdir(), "mlpipe-registry-pg-"));
    blobs = await createLocalBlobStore(join(dir, "artifacts"));
    clientA = createPgClient({ url, poolSize: 10 });
    clientB = createPgClient({ url, poolSize: 10 });
    await Promise.all([migrate(clientA), migrate(clientB)]);
    await seedRun(clientA, blobs, "run1", { "model.onnx": irisModel });
    a = await startReplica(clientA, blobs, noPoll);
    b = await startReplica(clientB, blobs, noPoll);
    grpcA = grpcClient(a.address);
    grpcB = grpcClient(b.address);
  }, 120_000);
  afterAll(async () => {
    grpcA?.close();
    grpcB?.close();
    await a?.stop();
    await b?.stop();
    await clientA?.close();
    await clientB?.close();
    await blobs?.close();
    await postgres?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("pushes a change committed on one replica to a watcher on the other", async () => {
    await grpcUnary(grpcA, M.createRegisteredModel, { name: "shared" });
    const rpcB = createClient(RegistryService, createGrpcTransport({ baseUrl: b.url }));
    const abort = new AbortController();
    const stream = rpcB.watchRegisteredModel({ name: "shared" }, { signal: abort.signal })[Symbol.asyncIterator]();
    expect(((await stream.next()).value as WatchRegisteredModelResponse).content.case).toBe("state");
    const created = await grpcUnary(
      grpcA,
      M.createModelVersion,
      { name: "shared", source: "runs:/run1/model.onnx" },
      "erin",
    );
    expect(created.ok).toBe(true);
    const event = (await stream.next()).value as WatchRegisteredModelResponse;
    expect(event.content.case === "event" ? [event.content.value.type, event.content.value.actor] : []).toEqual([
      RegistryEventType.VERSION_CREATED,
      "erin",
    ]);
    abort.abort();
  });

  it("lets a watcher resume on a restarted replica without missing changes made meanwhile", async () => {
    await grpcUnary(grpcA, M.createRegisteredModel, { name: "restart" });
    await grpcUnary(grpcA, M.createModelVersion, { name: "restart", source: "runs:/run1/model.onnx" });
    let rpcB = createClient(RegistryService, createGrpcTransport({ baseUrl: b.url }));
    const stream = rpcB.watchRegisteredModel({ name: "restart" })[Symbol.asyncIterator]();
    const state = (await stream.next()).value as WatchRegisteredModelResponse;
    const seq = state.content.case === "state" ? state.content.value.sequence : 0n;
    // Replica B goes away (its watchers' streams end); changes continue on A.
    await b.stop();
    await drain(stream);
    await grpcUnary(grpcA, M.transitionModelVersionStage, { name: "restart", version: 1n, stage: Stage.STAGING });
    await grpcUnary(grpcA, M.setRegisteredModelAlias, { name: "restart", alias: "challenger", version: 1n });
    b = await startReplica(clientB, blobs, noPoll);
    grpcB.close();
    grpcB = grpcClient(b.address);
    rpcB = createClient(RegistryService, createGrpcTransport({ baseUrl: b.url }));
    const abort = new AbortController();
    const resumed = rpcB
      .watchRegisteredModel({ name: "restart", afterSequence: seq }, { signal: abort.signal })
      [Symbol.asyncIterator]();
    const types: RegistryEventType[] = [];
    for (let i = 0; i < 2; i++) {
      const m = (await resumed.next()).value as WatchRegisteredModelResponse;
      if (m.content.case === "event") types.push(m.content.value.type);
    }
    expect(types).toEqual([RegistryEventType.STAGE_CHANGED, RegistryEventType.ALIAS_SET]);
    // And live changes keep coming through the new replica's LISTEN.
    await grpcUnary(grpcA, M.deleteRegisteredModelAlias, { name: "restart", alias: "challenger" });
    const live = (await resumed.next()).value as WatchRegisteredModelResponse;
    expect(live.content.case === "event" ? live.content.value.type : 0).toBe(RegistryEventType.ALIAS_DELETED);
    abort.abort();
  });

  it("keeps a watch stream open across a PostgreSQL restart and delivers the next change", async () => {
    await grpcUnary(grpcA, M.createRegisteredModel, { name: "db-restart" });
    // A notification sent while a replica's LISTEN connection is still reconnecting is lost; the
    // hub's poll (short on this replica) catches the change.
    const c = await startReplica(clientB, blobs, 100);
    onTestFinished(() => c.stop());
    const rpcB = createClient(RegistryService, createGrpcTransport({ baseUrl: c.url }));
    const abort = new AbortController();
    const stream = rpcB.watchRegisteredModel({ name: "db-restart" }, { signal: abort.signal })[Symbol.asyncIterator]();
    expect(((await stream.next()).value as WatchRegisteredModelResponse).content.case).toBe("state");
    await postgres.stop();
    await postgres.start();
    // The first statements after the restart may meet pooled connections that died with it.
    let created: Outcome<unknown> = { ok: false, code: 0, message: "", id: "", field: "" };
    for (let attempt = 0; attempt < 20 && !created.ok; attempt++) {
      created = await grpcUnary(grpcA, M.createModelVersion, { name: "db-restart", source: "runs:/run1/model.onnx" });
      if (!created.ok) expect(created.id).toBe("DATABASE_UNAVAILABLE");
    }
    expect(created.ok).toBe(true);
    const event = (await stream.next()).value as WatchRegisteredModelResponse;
    expect(event.content.case === "event" ? event.content.value.type : 0).toBe(RegistryEventType.VERSION_CREATED);
    abort.abort();
  }, 20_000);

  it("leaves exactly one version in Production when clients on both replicas promote at once", async () => {
    await grpcUnary(grpcA, M.createRegisteredModel, { name: "promoted" });
    const count = 8;
    for (let i = 0; i < count; i++) {
      await grpcUnary(grpcA, M.createModelVersion, { name: "promoted", source: "runs:/run1/model.onnx" });
    }
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        grpcUnary(
          i % 2 === 0 ? grpcA : grpcB,
          M.transitionModelVersionStage,
          { name: "promoted", version: BigInt(i + 1), stage: Stage.PRODUCTION, archiveExistingVersions: true },
          `client-${i}`,
        ),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const inProduction = await grpcUnary(grpcB, M.searchModelVersions, {
      filter: "name = 'promoted' AND current_stage = 'Production'",
    });
    expect(inProduction.ok ? inProduction.value.modelVersions.length : -1).toBe(1);
  });
});
