/**
 * The lifetime of an HTTP worker process of an inference cluster, which node:cluster starts by
 * re-running the command of its primary: `mlpipe serve` forks them for itself, `mlpipe start` for
 * the inference side of the platform. Either command, run as a cluster worker, serves through
 * this instead of starting what its primary starts.
 */
import type { Config } from "../core/config.js";
import { createLogger } from "../core/logger.js";
import { ExitCode, type ExitCodeValue } from "./exit-codes.js";
import { installProcessFaultPolicy } from "./process-fault-policy.js";
import { listenForShutdown } from "./shutdown-signal.js";

/**
 * Serves as one of `processes` HTTP worker processes until the primary says stop, this process
 * gets SIGINT / SIGTERM, or the primary is gone; drains, then resolves with exit code 0.
 */
export async function runClusterWorker(config: Config, processes: number): Promise<ExitCodeValue> {
  const logger = createLogger({ level: config.logLevel, name: "inference-worker" });
  // Imported here: client commands need not load the server (onnxruntime, worker pool).
  const { runInferenceClusterWorker } = await import("../app/inference-cluster-worker.js");
  const signal = listenForShutdown();
  const removeFaultPolicy = installProcessFaultPolicy({ logger });
  try {
    await runInferenceClusterWorker(config, logger, { processes, stopSignal: signal.received });
  } finally {
    signal.dispose();
    removeFaultPolicy();
  }
  return ExitCode.ok;
}
