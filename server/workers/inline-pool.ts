/**
 * Inference on the serving process's own event loop (INFERENCE_WORKERS=0): one session runner,
 * one batch at a time, no worker thread. For a small model the hand-off to a piscina worker (a
 * message each way and a thread wake-up per batch) costs more than the model run itself, so a
 * process that runs its batches inline spends less CPU per request; a slow model instead blocks the
 * event loop (every request of the process waits for each batch), and a MODEL_HANDLER that exits
 * takes the process with it rather than one worker thread.
 */
import { inferenceErrors } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import { createSessionRunner } from "./session-runner.js";
import { resultOf, type WorkerPool } from "./worker-pool.js";
import type { RunResult, RunTask } from "./worker-protocol.js";

/** Options of {@link createInlinePool}. */
export interface InlinePoolOptions {
  /** onnxruntime intra-op threads per session (1: the model runs on the event loop thread alone). */
  readonly intraOpThreads: number;
  /** MODEL_HANDLER module (absolute path or file URL); undefined for none. */
  readonly handlerModule?: string | undefined;
  readonly logger: Logger;
}

/** A pool of size 1 whose batches run on this thread. */
export function createInlinePool(options: InlinePoolOptions): WorkerPool {
  const runner = createSessionRunner({ intraOpThreads: options.intraOpThreads, handlerModule: options.handlerModule });
  let running = 0;
  let idle: (() => void)[] = [];
  let closed = false;
  return {
    size: 1,
    runsOn: "event loop",
    async run(task: RunTask): Promise<RunResult> {
      if (closed) throw inferenceErrors.workerFailed(new Error("the event-loop runner is closed"));
      running++;
      try {
        return resultOf(await runner.run(task), task, options.logger);
      } finally {
        running--;
        if (running === 0) for (const done of idle.splice(0)) done();
      }
    },
    unload(key: string): void {
      runner.unload(key);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // A batch on this thread cannot be stopped: close waits for the one running, if any.
      if (running > 0) await new Promise<void>((resolve) => idle.push(resolve));
      idle = [];
      await runner.close();
    },
  };
}
