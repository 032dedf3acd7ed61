import type { Metric, Param, Tag } from "../gen/mlpipe/tracking/v1/tracking_pb.js";

/** The most metrics one LogBatch call may carry (the server's limit). */
export const maxBatchMetrics = 1000;
/** The most params one LogBatch call may carry (the server's limit). */
export const maxBatchParams = 100;
/** The most tags one LogBatch call may carry (the server's limit). */
export const maxBatchTags = 100;

/** What one LogBatch call sends: within the limits above, never empty. */
export interface PendingBatch {
  readonly metrics: Metric[];
  readonly params: Param[];
  readonly tags: Tag[];
}

/** Options of {@link createLogBatcher}. */
export interface LogBatcherOptions {
  /**
   * Sends one batch, retries included; a rejection is final. Batches are sent one at a time, in
   * the order their entries were added.
   */
  readonly send: (batch: PendingBatch) => Promise<void>;
  /** Longest an entry waits in the buffer before a flush starts, in milliseconds. */
  readonly flushIntervalMs: number;
  /**
   * Buffered entries above which `add*` waits for the buffer to drain (back-pressure when the
   * server is slower than the training loop). At least one full batch.
   */
  readonly maxBufferedEntries: number;
  /** The error for an entry added after {@link LogBatcher.close}; `what` is "metric", "param" or "tag". */
  readonly closedError: (what: string) => Error;
}

/**
 * Buffers a run's metrics, params and tags and sends them in LogBatch-sized batches in the
 * background: as soon as a full batch is buffered, `flushIntervalMs` after the first entry of a
 * partial one, and on {@link LogBatcher.flush}.
 *
 * A batch that fails for good (after the sender's retries) breaks the batcher: that error is
 * rethrown by every later call, so a lost batch is never silent.
 */
export interface LogBatcher {
  addMetric(metric: Metric): Promise<void>;
  addParam(param: Param): Promise<void>;
  addTag(tag: Tag): Promise<void>;
  /** Sends everything buffered; resolves once the server stored it, rejects with the failure if any. */
  flush(): Promise<void>;
  /** Flushes and stops the timer; later `add*` calls reject. Idempotent. */
  close(): Promise<void>;
  /** Entries buffered and not yet acknowledged by the server. */
  readonly pending: number;
}

/** Creates a {@link LogBatcher}. */
export function createLogBatcher(options: LogBatcherOptions): LogBatcher {
  const metrics: Metric[] = [];
  const params: Param[] = [];
  const tags: Tag[] = [];
  let inFlight = 0;
  let failure: { readonly error: unknown } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let pump: Promise<void> | undefined;
  let closed = false;

  const buffered = () => metrics.length + params.length + tags.length;
  const fullBatchBuffered = () =>
    metrics.length >= maxBatchMetrics || params.length >= maxBatchParams || tags.length >= maxBatchTags;

  const take = (): PendingBatch => ({
    metrics: metrics.splice(0, maxBatchMetrics),
    params: params.splice(0, maxBatchParams),
    tags: tags.splice(0, maxBatchTags),
  });

  /** Starts (or joins) the loop that sends batches until the buffer is empty; never rejects. */
  const drain = (): Promise<void> => {
    if (pump !== undefined) return pump;
    const run = (async () => {
      while (buffered() > 0 && failure === undefined) {
        const batch = take();
        const size = batch.metrics.length + batch.params.length + batch.tags.length;
        inFlight += size;
        try {
          await options.send(batch);
        } catch (error) {
          failure = { error };
        } finally {
          inFlight -= size;
        }
      }
    })();
    pump = run;
    void run.finally(() => {
      if (pump === run) pump = undefined;
    });
    return run;
  };

  const throwIfFailed = () => {
    if (failure !== undefined) throw failure.error;
  };

  const added = async (): Promise<void> => {
    if (fullBatchBuffered()) {
      clearTimer();
      void drain();
    } else if (timer === undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        void drain();
      }, options.flushIntervalMs);
    }
    if (buffered() + inFlight > options.maxBufferedEntries) {
      while (buffered() + inFlight > options.maxBufferedEntries && failure === undefined) await drain();
      throwIfFailed();
    }
  };

  const clearTimer = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };

  const add =
    <T>(queue: T[], what: string) =>
    (entry: T): Promise<void> => {
      if (closed) return Promise.reject(options.closedError(what));
      if (failure !== undefined) return Promise.reject(failure.error);
      queue.push(entry);
      return added();
    };

  const flush = async (): Promise<void> => {
    clearTimer();
    while ((buffered() > 0 || pump !== undefined) && failure === undefined) await drain();
    throwIfFailed();
  };

  return {
    addMetric: add(metrics, "metric"),
    addParam: add(params, "param"),
    addTag: add(tags, "tag"),
    flush,
    close: async () => {
      closed = true;
      await flush();
    },
    get pending() {
      return buffered() + inFlight;
    },
  };
}
