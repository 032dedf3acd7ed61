/**
 * A queue a streaming Connect handler yields from: connect-es pulls a server stream's messages
 * from an async iterable, while answers and events arrive pushed (a prediction completing, a
 * readiness change). Items are yielded in the order pushed; closing ends the iteration after the
 * items already queued, or fails it with the error given.
 */

/** See the module comment. */
export interface AsyncQueue<T> extends AsyncIterable<T> {
  /** Queues an item (ignored once closed). */
  push(item: T): void;
  /** Ends the iteration once the queued items are yielded: normally, or by throwing `err`. Idempotent. */
  close(err?: unknown): void;
}

/** Creates an empty queue; it is meant to be iterated once. */
export function createAsyncQueue<T>(): AsyncQueue<T> {
  const items: T[] = [];
  let closed = false;
  let failure: { readonly err: unknown } | undefined;
  let wake: (() => void) | undefined;

  return {
    push(item) {
      if (closed) return;
      items.push(item);
      wake?.();
    },
    close(err) {
      if (closed) return;
      closed = true;
      if (err !== undefined) failure = { err };
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (items.length > 0) {
          yield items.shift() as T;
          continue;
        }
        if (closed) {
          if (failure !== undefined) throw failure.err;
          return;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
}
