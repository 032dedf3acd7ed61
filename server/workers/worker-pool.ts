/**
 * The pool of inference worker threads (piscina), each holding onnxruntime sessions. Batches go in
 * and outputs come back in transferred buffers. A worker that dies fails only the batch it was
 * running (INFERENCE_WORKER_FAILED) and piscina starts a replacement, since the pool keeps
 * minThreads = maxThreads.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { BroadcastChannel } from "node:worker_threads";
import { Piscina } from "piscina";
import { fromErrorData, inferenceErrors, isErrorData, type MlpipeError } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import type { RunResult, RunTask, UnloadMessage, WorkerFailure, WorkerSettings } from "./worker-protocol.js";

/** Options of {@link createWorkerPool}. */
export interface WorkerPoolOptions {
  /** Worker threads (fixed size). */
  readonly workers: number;
  /** onnxruntime intra-op threads per session. */
  readonly intraOpThreads: number;
  /** MODEL_HANDLER module (absolute path or file URL); undefined for none. */
  readonly handlerModule?: string | undefined;
  readonly logger: Logger;
  /**
   * Nice value of the pool's threads (Linux; thread-priority.ts): 19 for work that only uses cores
   * nothing else wants, as the shadow thread's. Undefined: the process's.
   */
  readonly niceness?: number | undefined;
  /** Called once per batch lost to a dying worker (for the metric). */
  readonly onWorkerFailure?: () => void;
}

/** The worker pool as the engine uses it. */
export interface WorkerPool {
  /** Worker threads in the pool (batches that can run at once). */
  readonly size: number;
  /** Where its batches run: worker threads, or the calling process's event loop (inline-pool.ts). */
  readonly runsOn: "worker threads" | "event loop";
  /** Runs a batch; the input buffer is transferred (unusable by the caller afterwards). Throws MlpipeError. */
  run(task: RunTask): Promise<RunResult>;
  /** Tells every worker to release its session of a model. */
  unload(key: string): void;
  /** Lets running batches finish, then stops the workers; `force` stops them at once (a stuck batch fails). */
  close(force?: boolean): Promise<void>;
}

let poolCounter = 0;

/** A runner's reply as the engine takes it: the result, or the failure thrown (and logged with its detail). */
export function resultOf(reply: unknown, task: RunTask, logger: Logger): RunResult {
  if (isErrorData(reply)) {
    const failure = reply as WorkerFailure;
    const error: MlpipeError = fromErrorData(failure);
    logger.warn(
      { id: failure.id, detail: failure.detail, model: task.model.key, path: task.model.path },
      "inference batch failed",
    );
    throw error;
  }
  return reply as RunResult;
}

/**
 * Where the worker module is and how Node must start to load it: the `.ts` source needs tsx in the
 * worker (under vitest and under `tsx` alike, since workers do not inherit either's loader hooks
 * reliably), a compiled `.js` needs nothing.
 */
function workerEntry(): { filename: string; execArgv: string[] } {
  const self = import.meta.url;
  if (self.endsWith(".ts")) {
    const tsx = pathToFileURL(createRequire(self).resolve("tsx")).href;
    return { filename: new URL("./inference-worker.ts", self).href, execArgv: ["--import", tsx] };
  }
  return { filename: new URL("./inference-worker.js", self).href, execArgv: [] };
}

/** Starts the pool: all workers at once, so the first requests do not pay thread start-up. */
export function createWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const channelName = `mlpipe-inference-${process.pid}-${++poolCounter}`;
  const settings: WorkerSettings = {
    intraOpThreads: options.intraOpThreads,
    handlerModule: options.handlerModule,
    channel: channelName,
    niceness: options.niceness,
  };
  const entry = workerEntry();
  const pool = new Piscina<RunTask, unknown>({
    filename: entry.filename,
    execArgv: entry.execArgv,
    minThreads: options.workers,
    maxThreads: options.workers,
    idleTimeout: 2 ** 31 - 1,
    concurrentTasksPerWorker: 1,
    workerData: settings,
    // Piscina's own run/wait-time histograms: unused, and a cost on every batch.
    recordTiming: false,
    name: "default",
  });
  pool.on("error", (err: unknown) => options.logger.error({ err }, "inference worker error"));
  const channel = new BroadcastChannel(channelName);
  channel.unref();

  return {
    size: options.workers,
    runsOn: "worker threads",
    async run(task: RunTask): Promise<RunResult> {
      let reply: unknown;
      try {
        reply = await pool.run(task, { transferList: [task.input.data] });
      } catch (err) {
        options.onWorkerFailure?.();
        options.logger.error({ err, model: task.model.key }, "inference worker died while running a batch");
        throw inferenceErrors.workerFailed(err);
      }
      return resultOf(reply, task, options.logger);
    },
    unload(key: string): void {
      const msg: UnloadMessage = { kind: "unload", key };
      channel.postMessage(msg);
    },
    async close(force = false): Promise<void> {
      channel.close();
      await pool.close({ force });
    },
  };
}

/**
 * The pool, started by its first batch rather than at once: a server whose models all run on the
 * event loop (inline-choice.ts) never starts its worker threads, nor pays their memory.
 */
export function createDeferredWorkerPool(options: WorkerPoolOptions): WorkerPool {
  let pool: WorkerPool | undefined;
  let closed = false;
  return {
    size: options.workers,
    runsOn: "worker threads",
    run(task: RunTask): Promise<RunResult> {
      if (closed) return Promise.reject(inferenceErrors.workerFailed(new Error("the worker pool is closed")));
      pool ??= createWorkerPool(options);
      return pool.run(task);
    },
    unload(key: string): void {
      pool?.unload(key);
    },
    async close(force = false): Promise<void> {
      closed = true;
      await pool?.close(force);
    },
  };
}
