/**
 * Sizes the worker pool from the machine: workers x intra-op threads never exceeds the cores, so
 * onnxruntime's thread pools do not fight each other (or the event loop) for CPUs.
 */

/** Requested sizes; undefined means "derive from the cores". */
export interface ThreadSizingOptions {
  /** CPUs available to the process (os.availableParallelism()). */
  readonly cores: number;
  /** Worker threads wanted (INFERENCE_WORKERS). */
  readonly workers?: number | undefined;
  /** onnxruntime intra-op threads per session (INFERENCE_INTRA_OP_THREADS). */
  readonly intraOpThreads?: number | undefined;
}

/** The sizes the pool runs with. */
export interface ThreadSizing {
  readonly workers: number;
  readonly intraOpThreads: number;
  /** True when a request was lowered to fit the cores. */
  readonly clamped: boolean;
}

/**
 * Derives the pool size. Defaults: one intra-op thread per session and one worker per core (many
 * small batches in parallel beat one parallel batch for small tabular models). Requests are
 * lowered so that workers x intraOpThreads <= cores (at least 1 x 1).
 */
export function sizeThreads(options: ThreadSizingOptions): ThreadSizing {
  const cores = Math.max(1, Math.floor(options.cores));
  const intraOpThreads = Math.min(Math.max(1, options.intraOpThreads ?? 1), cores);
  const maxWorkers = Math.max(1, Math.floor(cores / intraOpThreads));
  const wanted = Math.max(1, options.workers ?? maxWorkers);
  const workers = Math.min(wanted, maxWorkers);
  return {
    workers,
    intraOpThreads,
    clamped: workers !== wanted || intraOpThreads !== (options.intraOpThreads ?? intraOpThreads),
  };
}
