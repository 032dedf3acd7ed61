/**
 * The registry's observability on a real server over PostgreSQL: /metrics (RPCs by method and
 * code, latency, LogBatch points, watch subscribers, pool, database up), /health*, and
 * grpc.health.v1 over real gRPC, including while PostgreSQL is down and after it comes back.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { RegistryService } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { TrackingService } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { metricValue, until } from "../../test/support/inference-test-harness.js";
import { startPostgres, type TestPostgres } from "../../test/support/postgres.js";
import { startTestRegistryServer, type TestRegistryServer } from "../../test/support/registry-server.js";

let postgres: TestPostgres;
let server: TestRegistryServer;

beforeAll(async () => {
  postgres = await startPostgres();
  server = await startTestRegistryServer({
    env: { DATABASE_URL: await postgres.createDatabase(), DATABASE_POOL_SIZE: "4" },
    logLevel: "silent",
  });
});

afterAll(async () => {
  await server?.close();
  await postgres?.cleanup();
});

async function metrics(): Promise<string> {
  const res = await fetch(`${server.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

async function get(path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, body: await res.json() };
}

const tracking = () =>
  createClient(TrackingService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
const grpc = () => createGrpcTransport({ baseUrl: server.url });

describe("registry /metrics", () => {
  it("counts RPCs by service, method, type and code, with their latency", async () => {
    const client = tracking();
    await client.createExperiment({ name: "observed" });
    await expect(client.getExperiment({ experimentId: "999999" })).rejects.toMatchObject({ code: Code.NotFound });
    const text = await metrics();
    const labels = { service: TrackingService.typeName, type: "unary" };
    expect(
      metricValue(text, "registry_rpc_requests_total", { ...labels, method: "CreateExperiment", code: "ok" }),
    ).toBe(1);
    expect(
      metricValue(text, "registry_rpc_requests_total", { ...labels, method: "GetExperiment", code: "not_found" }),
    ).toBe(1);
    expect(metricValue(text, "registry_rpc_duration_seconds_count", { ...labels, method: "GetExperiment" })).toBe(1);
    expect(text).toMatch(
      /registry_rpc_duration_seconds_bucket\{le="0\.005",service="mlpipe\.tracking\.v1\.TrackingService",method="CreateExperiment",type="unary"\} \d/,
    );
  });

  it("counts the points LogBatch stored, once for a retried batch", async () => {
    const client = tracking();
    const { run } = await client.createRun({ experimentId: "0", runName: "points" });
    const batch = {
      runId: run?.info?.runId ?? "",
      batchId: "observability-batch",
      metrics: [
        { key: "loss", value: 0.5, step: 1n },
        { key: "loss", value: 0.4, step: 2n },
      ],
      params: [{ key: "lr", value: "0.1" }],
      tags: [{ key: "team", value: "ops" }],
    };
    const before = await metrics();
    expect((await client.logBatch(batch)).duplicate).toBe(false);
    expect((await client.logBatch(batch)).duplicate).toBe(true);
    const after = await metrics();
    const delta = (kind: string) =>
      metricValue(after, "registry_logbatch_points_total", { kind }) -
      metricValue(before, "registry_logbatch_points_total", { kind });
    expect([delta("metric"), delta("param"), delta("tag")]).toEqual([2, 1, 1]);
  });

  it("shows open watch streams, and counts a stream the client ends as canceled", async () => {
    const registry = createClient(RegistryService, grpc());
    await registry.createRegisteredModel({ name: "watched-model" });
    const abort = new AbortController();
    const stream = registry.watchRegisteredModel({ name: "watched-model" }, { signal: abort.signal });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next(); // the current state: the stream is open
    expect(metricValue(await metrics(), "registry_watch_subscribers")).toBe(1);
    abort.abort();
    await iterator.next().catch(() => undefined);
    await until(async () => metricValue(await metrics(), "registry_watch_subscribers") === 0);
    const labels = { method: "WatchRegisteredModel", type: "server_streaming", code: "canceled" };
    await until(async () => metricValue(await metrics(), "registry_rpc_requests_total", labels) === 1);
  });

  it("reports the PostgreSQL pool and the database as up", async () => {
    const text = await metrics();
    expect(metricValue(text, "registry_db_pool_max_connections")).toBe(4);
    expect(metricValue(text, "registry_db_pool_connections")).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^registry_db_pool_idle_connections \d+$/m);
    expect(text).toMatch(/^registry_db_pool_waiting_requests 0$/m);
    expect(metricValue(text, "registry_database_up")).toBe(1);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
  });

  it("answers another method on an observability path with a 404 JSON error, not an RPC", async () => {
    const res = await fetch(`${server.url}/metrics`, { method: "POST" });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found", id: "ROUTE_NOT_FOUND" } });
  });
});

describe("registry health", () => {
  it("is live and ready over HTTP and SERVING over gRPC for the server and both services", async () => {
    expect(await get("/health/live")).toEqual({ status: 200, body: { status: "alive" } });
    expect(await get("/health/ready")).toEqual({ status: 200, body: { status: "ready" } });
    expect(await get("/health")).toEqual({ status: 200, body: { status: "healthy", database: "reachable" } });
    const health = createClient(Health, grpc());
    for (const service of ["", TrackingService.typeName, RegistryService.typeName]) {
      expect((await health.check({ service })).status, service).toBe(Status.SERVING);
    }
    const unknown = await health.check({ service: "nope.Service" }).catch((err: unknown) => err);
    expect(unknown).toBeInstanceOf(ConnectError);
    expect((unknown as ConnectError).code).toBe(Code.NotFound);
  });

  it("turns not ready while PostgreSQL is down, stays live, and ready again when it is back", async () => {
    const health = createClient(Health, grpc());
    const watch = health.watch({ service: "" })[Symbol.asyncIterator]();
    expect((await watch.next()).value?.status).toBe(Status.SERVING);
    await postgres.stop();
    try {
      // The next readiness probe (every 5 s) finds the database gone.
      expect((await watch.next()).value?.status).toBe(Status.NOT_SERVING);
      const ready = await fetch(`${server.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(ready.headers.get("retry-after")).toBe("1");
      expect((await get("/health")).body).toEqual({ status: "unavailable", database: "unreachable" });
      expect((await get("/health/live")).status).toBe(200);
      expect((await health.check({ service: RegistryService.typeName })).status).toBe(Status.NOT_SERVING);
      expect(metricValue(await metrics(), "registry_database_up")).toBe(0);
    } finally {
      await postgres.start();
    }
    expect((await watch.next()).value?.status).toBe(Status.SERVING);
    await watch.return?.();
    expect((await get("/health/ready")).status).toBe(200);
    expect(metricValue(await metrics(), "registry_database_up")).toBe(1);
  });
});
