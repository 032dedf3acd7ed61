/**
 * Where a model version's batches run when the server has both worker threads and its event loop
 * to choose from (INFERENCE_WORKERS unset or > 0, no MODEL_HANDLER): on the event loop when a full
 * batch is cheap (INFERENCE_INLINE_MAX_BATCH_US), else on the worker threads.
 *
 * For a small tabular model the hand-off to a worker thread (a message each way and a thread
 * wake-up per batch) costs more CPU than the model run itself, and under load that CPU is taken
 * from the event loops that parse and answer requests. A model whose batch of MAX_BATCH_SIZE rows
 * takes a few microseconds is therefore run where the request already is; a heavier one would hold
 * up every other request of its process for as long as each batch runs, so it goes to the threads.
 */
import type { WorkerPool } from "./worker-pool.js";
import type { RunTask } from "./worker-protocol.js";

/** The event-loop runner and when to use it. */
export interface InlineExecution {
  /** Runs batches on the event loop (inline-pool.ts). */
  readonly pool: WorkerPool;
  /** A version runs inline when its fastest timed full batch took less than this, in µs. */
  readonly maxBatchUs: number;
  /** Larger `.onnx` files are not tried inline (their session would be loaded on the event loop). */
  readonly maxFileBytes: number;
}

/** What was chosen for a version, and why. */
export interface InlineChoice {
  readonly inline: boolean;
  /** µs of the fastest timed full batch on the event loop; undefined when none was run. */
  readonly batchUs: number | undefined;
}

/** Timed batches after the first (which creates the session and is not timed). */
const timedRuns = 5;

/**
 * Runs the probe (a batch of MAX_BATCH_SIZE rows) on the event loop: once to load the session,
 * then up to {@link timedRuns} times timed, stopping at the first run over 4x the bound so that a
 * slow model blocks the loop for one batch, not several. Inline when the fastest run is under the
 * bound: a run's time includes whatever else the event loop did while it waited its turn (other
 * requests, under load), so the fastest is the closest to the model's own cost.
 * A version that does not run inline has its event-loop session released. A probe that fails
 * (the model cannot run) is thrown, as the warm-up's failure would be.
 */
export async function chooseInline(
  execution: InlineExecution,
  probe: () => RunTask,
  fileBytes: number,
): Promise<InlineChoice> {
  if (execution.maxBatchUs <= 0 || fileBytes > execution.maxFileBytes) return { inline: false, batchUs: undefined };
  const first = probe();
  await execution.pool.run(first);
  const times: number[] = [];
  for (let i = 0; i < timedRuns; i++) {
    const task = probe();
    const started = performance.now();
    await execution.pool.run(task);
    const us = (performance.now() - started) * 1000;
    times.push(us);
    if (us > 4 * execution.maxBatchUs) break;
  }
  const batchUs = Math.min(...times);
  const inline = times.length === timedRuns && batchUs < execution.maxBatchUs;
  if (!inline) execution.pool.unload(first.model.key);
  return { inline, batchUs };
}
