/**
 * The inference server on every core (`mlpipe serve` with INFERENCE_HTTP_WORKERS=2): a node:cluster
 * primary and two HTTP worker processes sharing one port. Each test spawns the real command and
 * talks to it over real sockets; requests are sent on fresh connections, which the primary hands
 * to the workers in turn, so consecutive ones reach both processes. Requests are kept in flight by
 * the test handler's latch (a file the test creates), not by timing. Every process is reaped.
 */
import type { ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, describe, expect, it } from "vitest";
import { InferenceService } from "../gen/mlpipe/inference/v1/inference_pb.js";
import { RegistryService, Stage } from "../gen/mlpipe/registry/v1/registry_pb.js";
import {
  alive,
  clusterMetrics,
  clusterReady,
  predictOnNewConnection,
  startPredictLoad,
  workerProcessIds,
} from "../test/support/cluster-processes.js";
import { createGrpcClient } from "../test/support/grpc-client.js";
import { metricValue, testHandlerPath, until } from "../test/support/inference-test-harness.js";
import { writeTestModels } from "../test/support/onnx-models.js";
import { startTestRegistryServer } from "../test/support/registry-server.js";
import { type ServerProcess, spawnServerProcess } from "../test/support/server-process.js";

const setosa = [5.1, 3.5, 1.4, 0.2];
const bin = new URL("../bin/mlpipe.js", import.meta.url).pathname;
const children: ChildProcess[] = [];
/** Worker pids seen, killed in afterAll if a test left one behind. */
const workerPids = new Set<number>();

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  for (const pid of workerPids) if (alive(pid)) process.kill(pid, "SIGKILL");
  await until(async () => [...workerPids].every((pid) => !alive(pid)));
});

/** The pids of the primary's HTTP worker processes, remembered for afterAll. */
function childPids(pid: number): number[] {
  const workers = workerProcessIds(pid);
  for (const p of workers) workerPids.add(p);
  return workers;
}

interface Cluster {
  readonly server: ServerProcess<{ url: string }>;
  readonly url: string;
  readonly latch: string;
}

/** Spawns `mlpipe serve` with two HTTP worker processes; resolves once it announced itself (every process listens). */
async function spawnCluster(extra: Readonly<Record<string, string>>): Promise<Cluster> {
  const latch = join(mkdtempSync(join(tmpdir(), "mlpipe-latch-")), "release");
  const server = await spawnServerProcess<{ url: string }>({
    args: [bin, "serve"],
    env: {
      PATH: process.env.PATH ?? "",
      HOST: "127.0.0.1",
      INFERENCE_PORT: "0",
      INFERENCE_HTTP_WORKERS: "2",
      MODEL_HANDLER: testHandlerPath,
      TEST_HANDLER_LATCH: latch,
      LOG_LEVEL: "info",
      ...extra,
    },
    readyMessage: "inference server started",
    children,
  });
  return { server, url: server.ready.url, latch };
}

const predict = predictOnNewConnection;
const metrics = clusterMetrics;
const ready = clusterReady;

// Each test starts three processes (two loading a model) on a shared 2-core machine: well over the
// default 60 s when the machine is busy.
describe("inference cluster (INFERENCE_HTTP_WORKERS=2)", { timeout: 180_000 }, () => {
  it("serves from two processes and aggregates their metrics on whichever answers /metrics", async () => {
    const { server, url } = await spawnCluster({ MODEL_PATH: writeTestModels().iris });
    expect(childPids(server.child.pid ?? 0)).toHaveLength(2);
    expect(await ready(url)).toBe(true);
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => predict(url, setosa)));
    for (const out of outcomes) expect(out).toMatchObject({ status: 200, body: { model_version: "1" } });
    // The gRPC fast path and a stream, on two channels (two connections, so both processes).
    for (let i = 0; i < 2; i++) {
      const client = createGrpcClient(InferenceService, new URL(url).host);
      try {
        expect((await client.predict({ features: setosa })).prediction?.prediction).toBe(0);
        const answers: string[] = [];
        for await (const r of client.predictStream([
          { requestId: "a", features: setosa },
          { requestId: "b", features: setosa },
        ])) {
          answers.push(`${r.requestId}:${r.result.case === "prediction" ? r.result.value.prediction : r.result.case}`);
        }
        expect(answers.sort()).toEqual(["a:0", "b:0"]);
      } finally {
        client.close();
      }
    }

    // Whichever process answers, the counts are the cluster's: each request counted once.
    for (let i = 0; i < 2; i++) {
      const text = await metrics(url);
      expect(metricValue(text, "prediction_requests_total", { protocol: "http", code: "ok" })).toBe(20);
      // Two Predicts and two streams of two messages (each message answered counts).
      expect(metricValue(text, "prediction_requests_total", { protocol: "grpc", code: "ok" })).toBe(6);
      // One series per process for memory, one version served (not one per process summed).
      expect(text.match(/^inference_process_resident_memory_bytes\{process="worker-\d+"\} \d+/gm)).toHaveLength(2);
      expect(metricValue(text, "inference_cluster_primary_resident_memory_bytes")).toBeGreaterThan(0);
      expect(metricValue(text, "active_model_version", { version: "1" })).toBe(1);
      expect(metricValue(text, "inference_cluster_processes")).toBe(2);
    }
    server.child.kill("SIGTERM");
    expect(await server.exit).toBe(0);
  });

  it("drains every process on SIGTERM: in-flight requests finish, new ones are refused, exit 0", async () => {
    const { server, url, latch } = await spawnCluster({ MODEL_PATH: writeTestModels().iris, MAX_QUEUE_DELAY_US: "0" });
    const workers = childPids(server.child.pid ?? 0);
    // Two connections in a row go to the two workers; 7777 blocks each in its worker until the latch exists.
    const held = [predict(url, [7777, 3.5, 1.4, 0.2]), predict(url, [7777, 3.5, 1.4, 0.2])];
    await until(async () => metricValue(await metrics(url), "inference_in_flight_requests") === 2);

    server.child.kill("SIGTERM");
    await until(async () => !(await ready(url)));
    const refused = await predict(url, setosa);
    expect(refused).toMatchObject({ status: 503 });
    writeFileSync(latch, "");
    for (const out of await Promise.all(held)) expect(out).toMatchObject({ status: 200, body: { prediction: 0 } });
    expect(await server.exit).toBe(0);
    await until(async () => workers.every((pid) => !alive(pid)));
  });

  it("replaces a worker process that dies: only its requests fail, readiness returns once the new one serves", async () => {
    const { server, url, latch } = await spawnCluster({ MODEL_PATH: writeTestModels().iris, MAX_QUEUE_DELAY_US: "0" });
    const before = childPids(server.child.pid ?? 0);
    const held = [predict(url, [7777, 3.5, 1.4, 0.2]), predict(url, [7777, 3.5, 1.4, 0.2])];
    await until(async () => metricValue(await metrics(url), "inference_in_flight_requests") === 2);

    const [victim] = before;
    if (victim === undefined) throw new Error("no worker");
    process.kill(victim, "SIGKILL");
    await until(async () => !alive(victim));
    // Not every process can serve until the replacement has loaded the model.
    await until(async () => childPids(server.child.pid ?? 0).length === 2 && (await ready(url)));
    writeFileSync(latch, "");
    const outcomes = await Promise.all(held);
    // The killed process's request lost its connection; the other's finished.
    expect(outcomes.filter((o) => "error" in o)).toHaveLength(1);
    expect(outcomes.filter((o) => "status" in o && o.status === 200)).toHaveLength(1);

    const after = await Promise.all(Array.from({ length: 10 }, () => predict(url, setosa)));
    for (const out of after) expect(out).toMatchObject({ status: 200 });
    const text = await metrics(url);
    expect(metricValue(text, "inference_cluster_restarts_total")).toBe(1);
    expect(metricValue(text, "inference_cluster_processes")).toBe(2);
    server.child.kill("SIGTERM");
    expect(await server.exit).toBe(0);
  });

  it("hot-swaps every process to a promoted version without failing a request", async () => {
    const models = writeTestModels();
    const registry = await startTestRegistryServer({ logLevel: "warn" });
    try {
      const rpc = createClient(RegistryService, createGrpcTransport({ baseUrl: registry.url }));
      const name = "iris-classifier";
      await rpc.createRegisteredModel({ name });
      const register = async (file: string): Promise<bigint> => {
        const uploads = join(registry.config.artifactRoot, "uploads");
        mkdirSync(uploads, { recursive: true });
        const copy = join(uploads, `${Date.now()}-${Math.random().toString(36).slice(2)}.onnx`);
        copyFileSync(file, copy);
        const { modelVersion } = await rpc.createModelVersion({ name, source: pathToFileURL(copy).href });
        if (modelVersion === undefined) throw new Error("no version created");
        return modelVersion.version;
      };
      const promote = (version: bigint) =>
        rpc.transitionModelVersionStage({ name, version, stage: Stage.PRODUCTION, archiveExistingVersions: true });
      await promote(await register(models.iris));

      const dataDir = mkdtempSync(join(tmpdir(), "mlpipe-inference-"));
      const { server, url } = await spawnCluster({
        REGISTRY_URL: registry.url,
        MODEL_NAME: name,
        MLPIPE_DATA_DIR: dataDir,
      });
      await until(() => ready(url));

      // Load on fresh connections (so on both processes) through the promotion, until ten
      // answers in a row, from both processes in turn, name version 2.
      const load = startPredictLoad(url, setosa);
      const { versions, failures } = load;
      await until(async () => versions.length >= 10);
      const v2 = await register(models.irisB);
      await promote(v2);
      await until(async () => versions.length >= 10 && versions.slice(-10).every((v) => v === String(v2)));
      await load.stop();
      expect(failures).toEqual([]);
      expect(versions).toContain("1");
      server.child.kill("SIGTERM");
      expect(await server.exit).toBe(0);
    } finally {
      await registry.close();
    }
  });
});
