/**
 * Dynamic batching (as Triton's dynamic batcher): requests that arrive close together are merged
 * into one model run. A batch is dispatched when it reaches `maxBatchSize` rows, when its oldest
 * request has waited `maxQueueDelayUs`, or at once while draining, and only while fewer than
 * `concurrency` batches are running; so under load, batches grow while the workers are busy.
 *
 * With `maxQueueDelayUs` 0 nothing waits on a timer, but requests still do not leave one by one:
 * the queue is flushed at the end of the current event-loop turn (setImmediate), so every request
 * read from the network in the same turn (under load, dozens) goes in the same batch.
 *
 * The queue is bounded (`maxQueueRows`): beyond it, requests fail fast with INFERENCE_QUEUE_FULL.
 * A queued request whose deadline passes or whose signal aborts (client gone) is removed and
 * rejected, and never computed. Once dispatched, a request is computed and answered.
 */
import { Code, commonErrors, inferenceErrors, type MlpipeError } from "../../core/errors/index.js";
import type { CancelSignal } from "./cancellation.js";

/** Why a queued request left the queue without being computed. */
export type DropReason = "deadline" | "canceled";

/** A request to batch. */
export interface BatchRequest<In> {
  /** Rows in this request (>= 1). */
  readonly rows: number;
  /** The request's input, handed to `execute` with the others of its batch. */
  readonly input: In;
  /** Absolute deadline on the `performance.now()` clock, in milliseconds; undefined for none. */
  readonly deadline?: number | undefined;
  /** Aborts when the caller goes away (client disconnect, cancelled RPC). */
  readonly signal?: CancelSignal | undefined;
}

/** Observers of the batcher, for metrics. All optional. */
export interface BatcherEvents {
  /** A batch of `rows` rows was dispatched. */
  onBatch?(rows: number): void;
  /** A request left the queue for its batch after waiting `seconds`. */
  onQueueTime?(seconds: number): void;
  /** A queued request was dropped without being computed. */
  onDrop?(reason: DropReason): void;
}

/** Options of {@link createDynamicBatcher}. */
export interface DynamicBatcherOptions<In, Out> {
  /** Largest batch in rows (>= 1). A single request with more rows runs alone. */
  readonly maxBatchSize: number;
  /**
   * Longest a request waits for others to join its batch, in microseconds. Timers have millisecond
   * resolution. 0: no timer; what was queued during the current event-loop turn is batched together.
   */
  readonly maxQueueDelayUs: number;
  /** Rows the queue holds at most; requests beyond fail with INFERENCE_QUEUE_FULL. */
  readonly maxQueueRows: number;
  /** Batches running at once (the number of workers). */
  readonly concurrency: number;
  /** Runs one batch: the inputs of its requests, in order; resolves to one output per input, in order. */
  readonly execute: (inputs: readonly In[]) => Promise<readonly Out[]>;
  readonly events?: BatcherEvents;
}

/** A dynamic batcher for one model version. */
export interface DynamicBatcher<In, Out> {
  /** Queues a request; resolves with its own output. Rejects with an MlpipeError. */
  submit(request: BatchRequest<In>): Promise<Out>;
  /** Dispatches everything queued without waiting for the delay, and resolves when nothing is queued or running. */
  drain(): Promise<void>;
  /** Rows waiting. */
  readonly queuedRows: number;
  /** Batches running. */
  readonly running: number;
}

interface Entry<In, Out> {
  readonly request: BatchRequest<In>;
  readonly enqueuedAt: number;
  readonly resolve: (out: Out) => void;
  readonly reject: (err: MlpipeError) => void;
  deadlineTimer: NodeJS.Timeout | undefined;
  /** Stops watching the request's signal. */
  unwatch: (() => void) | undefined;
}

/** Creates a batcher; it holds no resources until requests arrive. */
export function createDynamicBatcher<In, Out>(options: DynamicBatcherOptions<In, Out>): DynamicBatcher<In, Out> {
  const delayMs = options.maxQueueDelayUs / 1000;
  const events = options.events ?? {};
  const queue: Entry<In, Out>[] = [];
  let queuedRows = 0;
  let running = 0;
  let flushing = false;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  /** A flush is scheduled for the end of this event-loop turn (maxQueueDelayUs 0). */
  let flushQueued = false;
  let idle: (() => void)[] = [];

  const now = (): number => performance.now();

  function detach(entry: Entry<In, Out>): void {
    if (entry.deadlineTimer !== undefined) clearTimeout(entry.deadlineTimer);
    entry.unwatch?.();
    entry.deadlineTimer = undefined;
    entry.unwatch = undefined;
  }

  function notifyIdle(): void {
    if (queue.length === 0 && running === 0 && idle.length > 0) {
      const waiters = idle;
      idle = [];
      for (const w of waiters) w();
    }
  }

  function drop(entry: Entry<In, Out>, reason: DropReason): void {
    const i = queue.indexOf(entry);
    if (i < 0) return;
    queue.splice(i, 1);
    queuedRows -= entry.request.rows;
    detach(entry);
    events.onDrop?.(reason);
    entry.reject(reason === "deadline" ? commonErrors.deadlineExceeded() : commonErrors.canceled());
    notifyIdle();
  }

  function schedule(at: number): void {
    if (timer !== undefined && timerAt <= at) return;
    if (timer !== undefined) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(
      () => {
        timer = undefined;
        timerAt = Number.POSITIVE_INFINITY;
        pump();
      },
      Math.max(0, at - now()),
    );
  }

  function flushAtEndOfTurn(): void {
    if (flushQueued) return;
    flushQueued = true;
    setImmediate(() => {
      flushQueued = false;
      pump();
    });
  }

  function dispatch(batch: Entry<In, Out>[], rows: number): void {
    running++;
    events.onBatch?.(rows);
    const t = now();
    for (const e of batch) events.onQueueTime?.((t - e.enqueuedAt) / 1000);
    Promise.resolve()
      .then(() => options.execute(batch.map((e) => e.request.input)))
      .then(
        (outs) => {
          batch.forEach((e, i) => {
            const out = outs[i];
            if (out === undefined) e.reject(commonErrors.internal(new Error(`batch returned ${outs.length} outputs`)));
            else e.resolve(out);
          });
        },
        (err: unknown) => {
          const error =
            (err as { code?: unknown }).code !== undefined ? (err as MlpipeError) : commonErrors.internal(err);
          for (const e of batch) e.reject(error);
        },
      )
      .finally(() => {
        running--;
        pump();
        notifyIdle();
      });
  }

  function pump(): void {
    while (running < options.concurrency && queue.length > 0) {
      const oldest = queue[0];
      if (oldest === undefined) break;
      const due = oldest.enqueuedAt + delayMs;
      if (!flushing && queuedRows < options.maxBatchSize && now() < due) {
        schedule(due);
        return;
      }
      const batch: Entry<In, Out>[] = [];
      let rows = 0;
      const t = now();
      while (queue.length > 0) {
        const next = queue[0];
        if (next === undefined || (batch.length > 0 && rows + next.request.rows > options.maxBatchSize)) break;
        queue.shift();
        queuedRows -= next.request.rows;
        detach(next);
        if (next.request.deadline !== undefined && next.request.deadline <= t) {
          events.onDrop?.("deadline");
          next.reject(commonErrors.deadlineExceeded());
          continue;
        }
        batch.push(next);
        rows += next.request.rows;
      }
      if (batch.length > 0) dispatch(batch, rows);
    }
    if (queue.length === 0 && timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
      timerAt = Number.POSITIVE_INFINITY;
    }
    notifyIdle();
  }

  return {
    submit(request: BatchRequest<In>): Promise<Out> {
      if (request.rows > options.maxQueueRows) {
        return Promise.reject(
          inferenceErrors.invalidInput("rows", `at most ${options.maxQueueRows} rows per request, got ${request.rows}`),
        );
      }
      if (queuedRows + request.rows > options.maxQueueRows) {
        return Promise.reject(inferenceErrors.queueFull(options.maxQueueRows));
      }
      if (request.signal?.aborted === true) {
        events.onDrop?.("canceled");
        return Promise.reject(commonErrors.canceled());
      }
      const t = now();
      if (request.deadline !== undefined && request.deadline <= t) {
        events.onDrop?.("deadline");
        return Promise.reject(commonErrors.deadlineExceeded());
      }
      return new Promise<Out>((resolve, reject) => {
        const entry: Entry<In, Out> = {
          request,
          enqueuedAt: t,
          resolve,
          reject,
          deadlineTimer: undefined,
          unwatch: undefined,
        };
        if (request.deadline !== undefined) {
          entry.deadlineTimer = setTimeout(() => drop(entry, "deadline"), request.deadline - t);
        }
        const signal = request.signal;
        if (signal !== undefined) {
          // A transport may cancel when the deadline passes (connect-node aborts with a
          // DEADLINE_EXCEEDED reason): that is a deadline drop, not a cancellation.
          entry.unwatch = signal.onAbort(() => {
            const reason = signal.reason as { code?: unknown } | undefined;
            drop(entry, reason?.code === Code.DeadlineExceeded ? "deadline" : "canceled");
          });
        }
        queue.push(entry);
        queuedRows += request.rows;
        if (delayMs === 0 && queuedRows < options.maxBatchSize && !flushing) flushAtEndOfTurn();
        else pump();
      });
    },
    drain(): Promise<void> {
      flushing = true;
      pump();
      return new Promise<void>((resolve) => {
        idle.push(resolve);
        notifyIdle();
      });
    },
    get queuedRows() {
      return queuedRows;
    },
    get running() {
      return running;
    },
  };
}
