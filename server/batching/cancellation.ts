/**
 * Cancellation of a queued request (its client went away, its stream failed), lighter than an
 * AbortController: that is an EventTarget per request, and on the JSON and gRPC hot paths creating,
 * listening to and unlistening from one per request cost more main-thread time than the batching.
 */

/** What the batching queue watches: whether the request was canceled, why, and a callback when it is. */
export interface CancelSignal {
  readonly aborted: boolean;
  /** What `cancel` was given (e.g. DEADLINE_EXCEEDED when the deadline caused it). */
  readonly reason: unknown;
  /** Calls `listener` once when canceled; returns the function that stops listening. */
  onAbort(listener: () => void): () => void;
}

/** A cancel signal and the means to fire it. */
export class Cancellation implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Set<() => void> | undefined;

  onAbort(listener: () => void): () => void {
    this.listeners ??= new Set();
    this.listeners.add(listener);
    return () => this.listeners?.delete(listener);
  }

  /** Fires the listeners once; later calls do nothing. */
  cancel(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const l of listeners ?? []) l();
  }
}

/** An AbortSignal (connect-es gives each call one) as a CancelSignal. */
export function cancelSignalOf(signal: AbortSignal): CancelSignal {
  return {
    get aborted() {
      return signal.aborted;
    },
    get reason() {
      return signal.reason;
    },
    onAbort(listener) {
      signal.addEventListener("abort", listener, { once: true });
      return () => signal.removeEventListener("abort", listener);
    },
  };
}
