import { Code, ConnectError } from "@connectrpc/connect";

/** How an idempotent call is retried. */
export interface RetryPolicy {
  /** Total attempts, the first included (1 disables retries). */
  readonly attempts: number;
  /** Delay before the second attempt in milliseconds; each later one doubles it. */
  readonly initialDelayMs: number;
}

/** Four attempts, 250 ms, 500 ms and 1 s apart: rides out a server restart or a brief network cut. */
export const defaultRetryPolicy: RetryPolicy = { attempts: 4, initialDelayMs: 250 };

/**
 * Whether an error may go away on its own: the server was unreachable or overloaded, or the call
 * timed out. Every other code (a bad argument, a missing run) fails the same way on every try.
 */
export function isTransient(err: unknown): boolean {
  const code = ConnectError.from(err).code;
  return code === Code.Unavailable || code === Code.DeadlineExceeded || code === Code.ResourceExhausted;
}

/**
 * Runs `call` until it succeeds, fails with a non-transient error, or the attempts are used up;
 * the last error is rethrown as it came. Only for calls that are safe to repeat (a LogBatch with
 * its batch_id, a read).
 */
export async function withRetries<T>(policy: RetryPolicy, call: () => Promise<T>): Promise<T> {
  let delayMs = policy.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= policy.attempts || !isTransient(err)) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs *= 2;
  }
}
