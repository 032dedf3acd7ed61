/**
 * Sizes the inference server's processes from the machine: how many processes serve HTTP and gRPC
 * (node:cluster workers, each with the whole edge), and how many onnxruntime worker threads and
 * admitted requests each of them gets: the worker threads the config names (workers x intra-op
 * threads within the cores) are split across the processes; MAX_IN_FLIGHT_REQUESTS is not (see
 * {@link ProcessSizing.maxInFlightPerProcess}).
 */
import { sizeThreads, type ThreadSizing } from "../server/workers/thread-sizing.js";

/** Requested sizes; undefined means "derive from the cores". */
export interface ProcessSizingOptions {
  /** CPUs available (os.availableParallelism()). */
  readonly cores: number;
  /** HTTP worker processes wanted (INFERENCE_HTTP_WORKERS). */
  readonly httpWorkers?: number | undefined;
  /** Worker threads of the whole server (INFERENCE_WORKERS). */
  readonly workers?: number | undefined;
  /** onnxruntime intra-op threads per session (INFERENCE_INTRA_OP_THREADS). */
  readonly intraOpThreads?: number | undefined;
  /** Rows per batch (MAX_BATCH_SIZE), for the default admission limit. */
  readonly maxBatchSize: number;
  /** Requests the server admits at once (MAX_IN_FLIGHT_REQUESTS); undefined: 2 full batches per worker thread. */
  readonly maxInFlightRequests?: number | undefined;
}

/** The sizes each process runs with. */
export interface ProcessSizing {
  /** HTTP worker processes (1: the server is this process alone, no cluster). */
  readonly processes: number;
  /** The server's worker threads, as {@link sizeThreads} sized them for the whole machine. */
  readonly threads: ThreadSizing;
  /**
   * True when INFERENCE_WORKERS is 0: each process runs its batches on its own event loop, with
   * no worker thread (server/workers/inline-pool.ts).
   */
  readonly inline: boolean;
  /** Worker threads of each process: the server's split across processes, at least 1 (1 inline: the event loop's own). */
  readonly workersPerProcess: number;
  /**
   * Requests each process admits at once: the whole limit, not a share of it. node:cluster balances
   * connections, not requests, and every request of one HTTP/2 connection (one gRPC channel) reaches
   * the same process; with the limit split, a one-channel client was refused at half the concurrency
   * a single process admitted (measured: RESOURCE_EXHAUSTED for 3,584 of the requests of 256
   * concurrent calls on one channel, none with one process). The server as a whole admits at most
   * processes x this.
   */
  readonly maxInFlightPerProcess: number;
}

/**
 * Derives the sizes. One process per core by default: one event loop is the limit of a small
 * model's JSON requests (the worker threads idle), so each core gets an event loop of its own.
 * The worker threads are split so that processes x threads stays within what sizeThreads allows,
 * except that every process needs one (so 4 processes on a 2-core machine run 4 threads).
 */
export function sizeProcesses(options: ProcessSizingOptions): ProcessSizing {
  const cores = Math.max(1, Math.floor(options.cores));
  const processes = Math.max(1, options.httpWorkers ?? cores);
  const inline = options.workers === 0;
  const threads = inline
    ? { workers: processes, intraOpThreads: 1, clamped: (options.intraOpThreads ?? 1) !== 1 }
    : sizeThreads({ cores, workers: options.workers, intraOpThreads: options.intraOpThreads });
  const workersPerProcess = inline ? 1 : Math.max(1, Math.floor(threads.workers / processes));
  // Inline, a process runs one batch at a time; it still admits what the threads of the cores would.
  const maxInFlight = options.maxInFlightRequests ?? 2 * (inline ? cores : threads.workers) * options.maxBatchSize;
  return {
    processes,
    inline,
    threads,
    workersPerProcess,
    maxInFlightPerProcess: maxInFlight,
  };
}
