/**
 * The inference server on every core (issue 16): a node:cluster primary that owns the listening
 * sockets (Node hands each new connection to the next worker, round-robin, on Linux) and forks
 * one HTTP worker process per core (INFERENCE_HTTP_WORKERS), each a whole inference server
 * (app/inference-cluster-worker.ts) with its own model cache, registry watch and share of the
 * worker threads. The primary serves no request: it starts the workers, replaces one that dies,
 * tells them whether every process can serve (readiness is the cluster's), aggregates their
 * metrics for whichever worker answers GET /metrics, and on shutdown drains them all.
 *
 * Why a process per core with its own onnxruntime pool rather than HTTP workers forwarding
 * batches to one shared pool: the event loop is the limit of a small model's JSON requests (about
 * 42 µs each) while the worker threads idle, and a batch sent over the cluster's IPC channel
 * costs about 31 µs of the sender's CPU per round trip, measured (plus the receiver's), against
 * a few µs to a worker thread in the same process. A process costs memory instead (README,
 * bench/README.md: RSS per process).
 */
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, Counter, Gauge, Registry } from "prom-client";
import type { Config } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import { createReadiness, type Readiness } from "../gateway/health/readiness.js";
import { isWorkerMessage, type PrimaryMessage, type WorkerMessage } from "./cluster-messages.js";

/** A running cluster, seen from its primary. */
export interface InferenceCluster {
  /** Base URL of the main port (shared by every worker). */
  readonly url: string;
  /** Base URL for gRPC clients. */
  readonly grpcUrl: string;
  /** HTTP worker processes it keeps running. */
  readonly processes: number;
  /**
   * Whether every worker process can serve (what each of them reports on /health/ready and gRPC
   * Health), for the primary's own use: `mlpipe start` announces itself when it turns true.
   */
  readonly readiness: Pick<Readiness, "serving" | "subscribe">;
  /** The pids of the worker processes running now. */
  workerPids(): number[];
  /**
   * Graceful shutdown: every worker drains (readiness false, new requests refused, in-flight ones
   * finish within SHUTDOWN_GRACE_MS) and exits; resolves once all exited, rejects when one did not
   * exit 0. Idempotent.
   */
  shutdown(): Promise<void>;
}

/** Options of {@link startInferenceCluster}. */
export interface InferenceClusterOptions {
  /** HTTP worker processes (at least 1). */
  readonly processes: number;
  /** Delay before replacing a worker that died before it listened, ms (default 1 s): no restart loop. */
  readonly restartDelayMs?: number;
  /**
   * Environment variables every worker gets on top of this process's (node:cluster's `fork(env)`):
   * what the primary learned at run time, e.g. the URL of the registry `mlpipe start` runs itself.
   */
  readonly workerEnv?: Readonly<Record<string, string>>;
}

/** Time a worker gets to exit after the grace period before it is killed, ms. */
const exitMarginMs = 10_000;

/**
 * Forks the workers (node:cluster re-runs this process's command line in each; the command starts
 * `runInferenceClusterWorker` there) and resolves once every one listens. A worker that
 * exits before it listened fails the start, after the others were stopped.
 */
export async function startInferenceCluster(
  config: Config,
  logger: Logger,
  options: InferenceClusterOptions,
): Promise<InferenceCluster> {
  const { processes } = options;
  const restartDelayMs = options.restartDelayMs ?? 1000;
  const graceMs = config.inference.shutdownGraceMs;

  const aggregator = new AggregatorRegistry();
  const own = new Registry();
  const live = new Gauge({
    name: "inference_cluster_processes",
    help: "HTTP worker processes of the inference server running (listening) now.",
    registers: [own],
  });
  const restarts = new Counter({
    name: "inference_cluster_restarts_total",
    help: "HTTP worker processes that exited unexpectedly and were replaced.",
    registers: [own],
  });
  new Gauge({
    name: "inference_cluster_primary_resident_memory_bytes",
    help: "Resident memory of the inference cluster's primary process, in bytes (the workers' are inference_process_resident_memory_bytes).",
    registers: [own],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });

  /** Workers that listen, with whether each can serve. */
  const listening = new Map<number, { worker: Worker; serving: boolean }>();
  const clusterReadiness = createReadiness();
  let stopping: Promise<void> | undefined;
  /** True once every first worker listened: from then on, a worker that exits is replaced. */
  let startedOnce = false;
  let urls: { url: string; grpcUrl: string } | undefined;
  let failStart: (err: Error) => void = () => {};
  let allListening: () => void = () => {};
  const started = new Promise<void>((resolve, reject) => {
    allListening = resolve;
    failStart = reject;
  });

  const send = (worker: Worker, message: PrimaryMessage): void => {
    // A worker can exit between the check and the write (one that finished draining does at
    // once): the write then fails with EPIPE. The callback takes that error; without one it is
    // an 'error' event with no listener, which took the primary down with exit code 1.
    if (!worker.isConnected()) return;
    worker.send(message, (err: Error | null) => {
      if (err !== null)
        logger.debug({ err, pid: worker.process.pid, type: message.type }, "message to a gone worker dropped");
    });
  };
  const updateReadiness = (): void => {
    const serving =
      stopping === undefined && listening.size === processes && [...listening.values()].every((w) => w.serving);
    if (serving === clusterReadiness.serving) return;
    clusterReadiness.set(serving);
    for (const { worker } of listening.values()) send(worker, { type: "mlpipe:cluster-readiness", serving });
  };

  const answerMetrics = async (worker: Worker, id: number): Promise<void> => {
    try {
      const [workers, primary] = await Promise.all([aggregator.clusterMetrics(), own.metrics()]);
      send(worker, { type: "mlpipe:metrics-response", id, text: `${workers}${primary}` });
    } catch (err) {
      send(worker, { type: "mlpipe:metrics-response", id, error: err instanceof Error ? err.message : String(err) });
    }
  };

  const onMessage = (worker: Worker, message: WorkerMessage): void => {
    if (message.type === "mlpipe:listening") {
      urls ??= { url: message.url, grpcUrl: message.grpcUrl };
      listening.set(worker.id, { worker, serving: false });
      live.set(listening.size);
      // A replacement learns the cluster's state; it is not serving yet, so that state is false.
      send(worker, { type: "mlpipe:cluster-readiness", serving: clusterReadiness.serving });
      if (listening.size === processes) allListening();
      updateReadiness();
    } else if (message.type === "mlpipe:local-readiness") {
      const entry = listening.get(worker.id);
      if (entry !== undefined) entry.serving = message.serving;
      updateReadiness();
    } else {
      void answerMetrics(worker, message.id);
    }
  };

  const fork = (): Worker => {
    const worker = cluster.fork(options.workerEnv);
    worker.on("message", (message: unknown) => {
      if (isWorkerMessage(message)) onMessage(worker, message);
    });
    worker.once("exit", (code, signal) => {
      const wasListening = listening.delete(worker.id);
      live.set(listening.size);
      updateReadiness();
      if (stopping !== undefined) return;
      if (!startedOnce) {
        failStart(new Error(`an HTTP worker process exited before it listened (code ${code}, signal ${signal})`));
        return;
      }
      restarts.inc();
      logger.error({ pid: worker.process.pid, code, signal }, "HTTP worker process exited; starting another");
      // One that died before it listened may die again at once: wait before the next.
      if (wasListening) fork();
      else setTimeout(() => stopping === undefined && fork(), restartDelayMs).unref();
    });
    return worker;
  };

  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      updateReadiness();
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      const exits = workers.map(
        (worker) =>
          new Promise<number | null>((resolve) => {
            if (worker.process.exitCode !== null) {
              resolve(worker.process.exitCode);
              return;
            }
            const timer = setTimeout(() => {
              logger.warn({ pid: worker.process.pid }, "HTTP worker process did not exit in time; killing it");
              worker.process.kill("SIGKILL");
            }, graceMs + exitMarginMs);
            worker.process.once("exit", (code) => {
              clearTimeout(timer);
              resolve(code);
            });
          }),
      );
      for (const worker of workers) send(worker, { type: "mlpipe:shutdown" });
      const codes = await Promise.all(exits);
      const failed = codes.filter((code) => code !== 0).length;
      logger.info({ processes: workers.length, failed }, "inference cluster stopped");
      if (failed > 0) throw new Error(`${failed} HTTP worker process(es) did not exit cleanly`);
    })();
    return stopping;
  };

  for (let i = 0; i < processes; i++) fork();
  try {
    await started;
  } catch (err) {
    await shutdown().catch(() => undefined);
    throw err;
  }
  startedOnce = true;
  const ready = urls;
  if (ready === undefined) throw new Error("no HTTP worker listened");
  logger.info({ url: ready.url, grpcUrl: ready.grpcUrl, processes }, "inference cluster listening");
  return {
    url: ready.url,
    grpcUrl: ready.grpcUrl,
    processes,
    readiness: clusterReadiness,
    workerPids: () =>
      [...listening.values()].map((w) => w.worker.process.pid).filter((pid): pid is number => pid !== undefined),
    shutdown,
  };
}
