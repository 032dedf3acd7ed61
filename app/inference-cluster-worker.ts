/**
 * One HTTP worker process of the inference cluster (app/inference-cluster.ts): the whole
 * inference server (edge, model cache, registry watch, its share of the worker threads) whose
 * listeners node:cluster shares with the other workers through the primary. It tells the primary
 * when it listens and whether it can serve, reports ready only while every process can, answers
 * GET /metrics with every process's metrics (asked of the primary, which aggregates them with
 * prom-client's AggregatorRegistry), and drains and exits when the primary says so, when it gets
 * SIGTERM, or when the primary is gone.
 */
import cluster from "node:cluster";
import { AggregatorRegistry, Gauge } from "prom-client";
import type { Config } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import type { MetricsExposition } from "../gateway/health/health-routes.js";
import { createReadiness } from "../gateway/health/readiness.js";
import { isPrimaryMessage, type MetricsResponseMessage, type WorkerMessage } from "./cluster-messages.js";
import { startInferenceServer } from "./inference-server.js";

/** How long a GET /metrics waits for the primary's aggregate, ms (prom-client waits up to 5 s for the workers). */
const metricsTimeoutMs = 8_000;

/** Options of {@link runInferenceClusterWorker}. */
export interface InferenceClusterWorkerOptions {
  /** The HTTP worker processes of the cluster, this one included. */
  readonly processes: number;
  /** Settles when this process got a stop signal (SIGINT or SIGTERM). */
  readonly stopSignal: Promise<unknown>;
}

/**
 * Serves as a cluster worker until told to stop, then drains; resolves once everything closed.
 * Rejects when the server cannot start (the primary then sees this process exit before it
 * listened, and fails the cluster's start).
 */
export async function runInferenceClusterWorker(
  config: Config,
  logger: Logger,
  options: InferenceClusterWorkerOptions,
): Promise<void> {
  const send = (message: WorkerMessage): void => {
    // The channel is closed when the primary is gone; the "disconnect" handler below stops this
    // process. A write that fails meanwhile (EPIPE) goes to the callback, not to an 'error' event.
    if (!process.connected) return;
    process.send?.(message, undefined, undefined, (err: Error | null) => {
      if (err !== null) logger.debug({ err, type: message.type }, "message to a gone primary dropped");
    });
  };
  const served = createReadiness();
  let clusterServing = false;
  let localServing = false;
  const pendingMetrics = new Map<number, (answer: MetricsResponseMessage) => void>();
  let nextMetricsId = 0;
  let stop: () => void = () => {};
  const stopRequested = new Promise<void>((resolve) => {
    stop = resolve;
  });

  const onMessage = (message: unknown): void => {
    if (!isPrimaryMessage(message)) return;
    if (message.type === "mlpipe:cluster-readiness") {
      clusterServing = message.serving;
      served.set(localServing && clusterServing);
    } else if (message.type === "mlpipe:metrics-response") {
      pendingMetrics.get(message.id)?.(message);
    } else {
      stop();
    }
  };
  process.on("message", onMessage);
  process.once("disconnect", stop);
  void options.stopSignal.then(stop);

  const metricsExposition: MetricsExposition = {
    contentType: AggregatorRegistry.PROMETHEUS_CONTENT_TYPE,
    metrics: () =>
      new Promise<string>((resolve, reject) => {
        const id = nextMetricsId++;
        const timer = setTimeout(() => {
          pendingMetrics.delete(id);
          reject(new Error("the cluster's primary did not answer for the metrics"));
        }, metricsTimeoutMs);
        pendingMetrics.set(id, (answer) => {
          clearTimeout(timer);
          pendingMetrics.delete(id);
          if (answer.text !== undefined) resolve(answer.text);
          else reject(new Error(`aggregating the cluster's metrics failed: ${answer.error ?? "unknown"}`));
        });
        send({ type: "mlpipe:metrics-request", id });
      }),
  };

  const server = await startInferenceServer(config, logger, {
    processes: options.processes,
    servedReadiness: served,
    metricsExposition,
  });
  try {
    // The primary collects each worker's registry through prom-client's own messages.
    AggregatorRegistry.setRegistries([server.metrics.registry]);
    new AggregatorRegistry();
    const processLabel = `worker-${cluster.worker?.id ?? process.pid}`;
    new Gauge({
      name: "inference_process_resident_memory_bytes",
      help: "Resident memory of each process of the inference server, in bytes (process: worker-<n>; the primary's is inference_cluster_primary_resident_memory_bytes).",
      labelNames: ["process"],
      registers: [server.metrics.registry],
      collect() {
        this.set({ process: processLabel }, process.memoryUsage.rss());
      },
    });
    server.readiness.subscribe((serving) => {
      localServing = serving;
      served.set(serving && clusterServing);
      send({ type: "mlpipe:local-readiness", serving });
    });
    localServing = server.readiness.serving;
    send({ type: "mlpipe:listening", url: server.url, grpcUrl: server.grpcUrl });
    send({ type: "mlpipe:local-readiness", serving: localServing });

    await stopRequested;
    logger.info({ worker: processLabel }, "cluster worker stopping");
  } finally {
    await server.shutdown();
    process.off("message", onMessage);
    process.off("disconnect", stop);
    for (const answer of pendingMetrics.values())
      answer({ type: "mlpipe:metrics-response", id: -1, error: "stopping" });
    // Closing the channel lets the process exit once the server's handles are closed.
    if (process.connected) process.disconnect();
  }
}
