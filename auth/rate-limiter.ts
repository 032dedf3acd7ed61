/**
 * Per-identity rate limits on the registry's write RPCs: a token bucket per principal, so one
 * client (a runaway training loop) cannot starve the others of the database. Each principal's
 * bucket holds up to `burst` calls and refills at `ratePerSecond`; a call finding it empty is
 * refused with RESOURCE_EXHAUSTED (429) and a Retry-After of the seconds until a call is free.
 * Buckets live in the process: with several replicas each applies the limit on its own.
 */

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Calls per second each principal may sustain; > 0. */
  readonly ratePerSecond: number;
  /** Calls a principal may make at once after being idle; >= 1. */
  readonly burst: number;
  /** Most principals tracked; beyond it the longest idle bucket (which had refilled) is dropped. Default 10,000. */
  readonly maxKeys?: number;
  /** The clock, in ms (tests). */
  readonly now?: () => number;
}

/** Takes one call from a principal's bucket. */
export interface RateLimiter {
  /** Undefined when the call may go; else the whole seconds (>= 1) until it could. */
  take(key: string): number | undefined;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Creates a limiter. */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { ratePerSecond, burst } = options;
  const now = options.now ?? (() => performance.now());
  const maxKeys = options.maxKeys ?? 10_000;
  // Map order is insertion order: a bucket is re-inserted at each use, so the first is the idlest.
  const buckets = new Map<string, Bucket>();
  return {
    take(key) {
      const t = now();
      const bucket = buckets.get(key) ?? { tokens: burst, at: t };
      buckets.delete(key);
      bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * ratePerSecond);
      bucket.at = t;
      buckets.set(key, bucket);
      if (buckets.size > maxKeys) {
        const idlest = buckets.keys().next().value;
        if (idlest !== undefined) buckets.delete(idlest);
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return undefined;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerSecond));
    },
  };
}
