/**
 * Exponential backoff with full jitter for reconnecting to the model registry: each failure
 * doubles the ceiling of the wait, a success resets it. Jitter spreads the reconnects of many
 * replicas after a registry restart (AWS Architecture Blog, "Exponential Backoff And Jitter").
 */

/** Options of {@link createBackoff}. */
export interface BackoffOptions {
  /** Ceiling of the first wait, in ms (default 200). */
  readonly initialMs?: number;
  /** Largest ceiling, in ms (default 10 000). */
  readonly maxMs?: number;
  /** Random source in [0, 1); default Math.random (tests may fix it). */
  readonly random?: () => number;
}

/** A backoff sequence. */
export interface Backoff {
  /** The next wait, in ms: uniform in [ceiling / 2, ceiling], the ceiling doubling up to maxMs. */
  next(): number;
  /** Starts over from the initial ceiling (after a success). */
  reset(): void;
}

/** Creates a backoff sequence. */
export function createBackoff(options: BackoffOptions = {}): Backoff {
  const initial = options.initialMs ?? 200;
  const max = options.maxMs ?? 10_000;
  const random = options.random ?? Math.random;
  let ceiling = initial;
  return {
    next() {
      const wait = ceiling / 2 + (random() * ceiling) / 2;
      ceiling = Math.min(max, ceiling * 2);
      return Math.round(wait);
    },
    reset() {
      ceiling = initial;
    },
  };
}

/**
 * Resolves after `ms`, or at once when `signal` aborts (never rejects): a wait that a shutdown
 * can cut short.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
