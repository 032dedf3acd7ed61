/**
 * A quantile of a latency histogram, estimated like Prometheus's `histogram_quantile`: the bucket
 * holding the rank is found and the value interpolated linearly inside it (from 0 for the first
 * bucket). Interpolation matters here: the buckets grow 2 to 2.5x, so without it any two versions
 * in neighbouring buckets would differ by at least 2x and a p99 ratio bound of 1.5 could not hold.
 */

/** A latency histogram: counts per bucket, bucket i up to `boundsMs[i]`, one more above the last bound. */
export interface LatencyHistogram {
  /** Increasing upper bounds, ms. */
  readonly boundsMs: readonly number[];
  /** `boundsMs.length + 1` counts. */
  readonly counts: readonly number[];
}

/**
 * The `q` quantile (0 < q <= 1) of `histogram` in ms; undefined when it counts nothing. A rank
 * in the bucket above the last bound answers the last bound (the histogram knows no more).
 */
export function latencyQuantileMs(histogram: LatencyHistogram, q: number): number | undefined {
  const total = histogram.counts.reduce((n, c) => n + c, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let below = 0;
  for (const [i, count] of histogram.counts.entries()) {
    if (count > 0 && below + count >= rank) {
      const upper = histogram.boundsMs[i];
      if (upper === undefined) return histogram.boundsMs[histogram.boundsMs.length - 1];
      const lower = i === 0 ? 0 : (histogram.boundsMs[i - 1] ?? 0);
      return lower + ((upper - lower) * (rank - below)) / count;
    }
    below += count;
  }
  return histogram.boundsMs[histogram.boundsMs.length - 1];
}
