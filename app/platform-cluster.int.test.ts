/**
 * `mlpipe start` on more than one core (INFERENCE_HTTP_WORKERS=2): the registry with embedded
 * PGlite stays in the primary, two HTTP worker processes serve inference and follow that registry
 * over its loopback URL. The real command is spawned on a temporary data directory and ephemeral
 * ports of 127.0.0.1; requests go on fresh connections, which the primary hands to its workers in
 * turn, so consecutive ones reach both processes. Requests are kept in flight by the test
 * handler's latch (a file the test creates), not by timing. Every process is reaped.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createMlpipeClient } from "../sdk/index.js";
import {
  alive,
  clusterMetrics,
  clusterReady,
  predictOnNewConnection,
  requestOnNewConnection,
  startPredictLoad,
  workerProcessIds,
} from "../test/support/cluster-processes.js";
import { metricValue, testHandlerPath, until } from "../test/support/inference-test-harness.js";
import { spawnServerProcess } from "../test/support/server-process.js";
import { trainIris } from "../training/train-iris.js";

const setosa = [5.1, 3.5, 1.4, 0.2];
/** Held in the test handler until the latch file exists. */
const held = [7777, 3.5, 1.4, 0.2];
const bin = new URL("../bin/mlpipe.js", import.meta.url).pathname;
const children: ChildProcess[] = [];
const dirs: string[] = [];
/** Worker pids seen, killed in afterAll if the test left one behind. */
const workerPids = new Set<number>();

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const pid of workerPids) if (alive(pid)) process.kill(pid, "SIGKILL");
  await until(async () => [...workerPids].every((pid) => !alive(pid)));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The "platform ready" log line. */
interface ReadyLog {
  readonly registryUrl: string;
  readonly inferenceUrl: string;
  readonly bootstrap: string;
  readonly version?: string;
  readonly inferenceProcesses: number;
  readonly serving: boolean;
}

function childPids(pid: number): number[] {
  const workers = workerProcessIds(pid);
  for (const p of workers) workerPids.add(p);
  return workers;
}

const predict = predictOnNewConnection;
const metrics = clusterMetrics;
const ready = clusterReady;

async function reachable(url: string): Promise<boolean> {
  return !("error" in (await requestOnNewConnection(url, "GET", "/health/live")));
}

// The primary trains the demo and two processes load it, on a shared 2-core machine; then a
// second version is trained and a worker process replaced: far over the default 60 s when busy.
describe("mlpipe start with INFERENCE_HTTP_WORKERS=2", { timeout: 300_000 }, () => {
  it("serves from two processes following the embedded registry: a promotion swaps both, a dead one is replaced, SIGTERM drains every process and then closes the registry", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mlpipe-start-cluster-"));
    dirs.push(dataDir);
    const latch = join(dataDir, "latch");
    const server = await spawnServerProcess<ReadyLog>({
      args: [
        bin,
        "start",
        "--data-dir",
        dataDir,
        "--host",
        "127.0.0.1",
        "--registry-port",
        "0",
        "--inference-port",
        "0",
      ],
      env: {
        PATH: process.env.PATH ?? "",
        LOG_LEVEL: "info",
        INFERENCE_HTTP_WORKERS: "2",
        MODEL_HANDLER: testHandlerPath,
        TEST_HANDLER_LATCH: latch,
        MAX_QUEUE_DELAY_US: "0",
      },
      readyMessage: "platform ready",
      children,
    });
    const { registryUrl, inferenceUrl: url } = server.ready;
    // Announced once every worker process serves the demo the primary trained.
    expect(server.ready).toMatchObject({ bootstrap: "trained", version: "1", inferenceProcesses: 2, serving: true });
    const primary = server.child.pid ?? 0;
    const workers = childPids(primary);
    expect(workers).toHaveLength(2);
    expect(await ready(url)).toBe(true);
    let text = await metrics(url);
    expect(text.match(/^inference_process_resident_memory_bytes\{process="worker-\d+"\} \d+/gm)).toHaveLength(2);
    expect(metricValue(text, "inference_cluster_processes")).toBe(2);

    // Two requests held at once, one on each process: killing one process fails only its request.
    const both = [predict(url, held), predict(url, held)];
    await until(async () => metricValue(await metrics(url), "inference_in_flight_requests") === 2);
    const [victim] = workers;
    if (victim === undefined) throw new Error("no worker");
    process.kill(victim, "SIGKILL");
    await until(async () => !alive(victim));
    // The replacement follows the registry, loads the model, and the platform is ready again.
    await until(async () => childPids(primary).length === 2 && (await ready(url)));
    writeFileSync(latch, "");
    const outcomes = await Promise.all(both);
    expect(outcomes.filter((o) => "error" in o)).toHaveLength(1);
    expect(outcomes.filter((o) => "status" in o && o.status === 200)).toHaveLength(1);
    text = await metrics(url);
    expect(metricValue(text, "inference_cluster_restarts_total")).toBe(1);
    expect(metricValue(text, "inference_cluster_processes")).toBe(2);
    rmSync(latch);

    // A second version, trained here and promoted in the embedded registry: every process swaps.
    const trained = await trainIris({
      trackingUrl: registryUrl,
      epochs: 40,
      learningRate: 0.2,
      seed: 7,
      register: true,
    });
    const v2 = trained.modelVersion?.version;
    expect(v2).toBe(2n);
    const load = startPredictLoad(url, setosa);
    const { versions, failures } = load;
    await until(async () => versions.length >= 10);
    const client = createMlpipeClient({ url: registryUrl });
    await client.setStage("iris-classifier", 2n, "Production", { archiveExistingVersions: true });
    // Ten answers in a row on fresh connections, so from both processes in turn, name version 2.
    await until(async () => versions.length >= 10 && versions.slice(-10).every((v) => v === "2"));
    await load.stop();
    expect(failures).toEqual([]);
    expect(versions).toContain("1");

    // SIGTERM: every process stops taking requests, finishes the ones in flight, exits; then the
    // registry closes and the primary exits 0.
    const drained = [predict(url, held), predict(url, held)];
    await until(async () => metricValue(await metrics(url), "inference_in_flight_requests") === 2);
    const last = childPids(primary);
    server.child.kill("SIGTERM");
    await until(async () => !(await ready(url)));
    expect(await predict(url, setosa)).toMatchObject({ status: 503 });
    expect(await reachable(registryUrl)).toBe(true);
    writeFileSync(latch, "");
    for (const out of await Promise.all(drained)) expect(out).toMatchObject({ status: 200, body: { prediction: 0 } });
    expect(await server.exit).toBe(0);
    await until(async () => last.every((pid) => !alive(pid)));
    expect(await reachable(registryUrl)).toBe(false);
  });
});
