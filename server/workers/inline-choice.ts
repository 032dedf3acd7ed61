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
  /**
   * A version timed over the bound but under 20x it is timed again after each of these delays
   * (ms) until it fits: the first timing may have met a busy event loop (a process starting
   * beside others). Default none.
   */
  readonly retimeDelaysMs?: readonly number[] | undefined;
}

/** What was chosen for a version, and why. */
export interface InlineChoice {
  readonly inline: boolean;
  /** µs of the fastest timed full batch on the event loop; undefined when none was run. */
  readonly batchUs: number | undefined;
  /**
   * Rows of the largest request timed under the bound on the event loop (at least a full batch):
   * a request alone with more rows (a large PredictBatch) runs on the worker threads. 0 when not inline.
   */
  readonly maxRows: number;
}

/** Untimed runs first: the session is created and the code paths warmed. */
const warmRuns = 3;
/** Timed runs of a full batch. */
const timedRuns = 5;
/** Timed runs of each larger size. */
const timedRunsLarger = 2;
/** Larger sizes grow 4x from a full batch, up to this many rows and ... */
const maxProbeRows = 65_536;
/** ... this many bytes of input. */
const maxProbeBytes = 16 * 1024 * 1024;

/** The fastest of `runs` timed runs of `task()`, stopping early past `stopUs`. */
async function fastest(pool: WorkerPool, task: () => RunTask, runs: number, stopUs: number): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t = task();
    const started = performance.now();
    await pool.run(t);
    const us = (performance.now() - started) * 1000;
    best = Math.min(best, us);
    if (us > stopUs) break;
  }
  return best;
}

/**
 * Times the model on the event loop. A full batch (`probe(batchRows)`) runs {@link warmRuns}
 * times untimed, then up to {@link timedRuns} times timed, stopping at the first run over 4x the
 * bound so that a slow model blocks the loop for one batch, not several. Inline when the fastest
 * run is under the bound: a run's time includes whatever else the event loop did while it waited
 * its turn (other requests, under load), so the fastest is the closest to the model's own cost.
 * Then requests of 4x, 16x, ... a batch are timed (twice each, up to 65,536 rows or 16 MB of
 * input) until one takes the bound: the last size under it is the most rows a request may run
 * inline. Measured rather than extrapolated, since a run's cost is far from linear in its rows
 * (a fixed cost dominates small batches).
 * A version that does not run inline has its event-loop session released. A probe that fails
 * (the model cannot run) is thrown, as the warm-up's failure would be.
 */
export async function chooseInline(
  execution: InlineExecution,
  probe: (rows: number) => RunTask,
  batchRows: number,
  fileBytes: number,
): Promise<InlineChoice> {
  const bound = execution.maxBatchUs;
  if (bound <= 0 || fileBytes > execution.maxFileBytes) return { inline: false, batchUs: undefined, maxRows: 0 };
  const first = probe(batchRows);
  const key = first.model.key;
  const bytesPerRow = first.input.data.byteLength / Math.max(1, batchRows);
  await execution.pool.run(first);
  for (let i = 1; i < warmRuns; i++) await execution.pool.run(probe(batchRows));
  const batchUs = await fastest(execution.pool, () => probe(batchRows), timedRuns, 4 * bound);
  if (!(batchUs < bound)) {
    execution.pool.unload(key);
    return { inline: false, batchUs, maxRows: 0 };
  }
  let maxRows = batchRows;
  for (let rows = batchRows * 4; rows <= maxProbeRows && rows * bytesPerRow <= maxProbeBytes; rows *= 4) {
    const us = await fastest(execution.pool, () => probe(rows), timedRunsLarger, bound);
    if (!(us < bound)) break;
    maxRows = rows;
  }
  return { inline: true, batchUs, maxRows };
}
