/**
 * What the Serving page shows of an inference server's `/metrics`: request rate, error share and
 * p99 latency over the interval between two scrapes (as Prometheus's `rate()` and
 * `histogram_quantile()` would), or since the server started when there is only one scrape or no
 * request in the interval.
 */
import type { PrometheusSample } from "./prometheus-text.js";

/** The numbers of one scrape the page needs, with the time it was read (ms). */
export interface Scrape {
  readonly at: number;
  /** prediction_requests_total over every protocol and code. */
  readonly requests: number;
  /** The same, for codes other than "ok". */
  readonly failedRequests: number;
  /** prediction_latency_seconds buckets summed over model versions: upper bound (s) -> cumulative count. */
  readonly latencyBuckets: ReadonlyMap<number, number>;
  /** inference_in_flight_requests. */
  readonly inFlight: number;
  /** inference_queue_depth summed over versions (rows). */
  readonly queuedRows: number;
}

/** Reads a {@link Scrape} from the samples of a metrics page read at `at` (ms). */
export function readScrape(samples: readonly PrometheusSample[], at: number): Scrape {
  let requests = 0;
  let failedRequests = 0;
  let inFlight = 0;
  let queuedRows = 0;
  const latencyBuckets = new Map<number, number>();
  for (const s of samples) {
    switch (s.name) {
      case "prediction_requests_total":
        requests += s.value;
        if (s.labels.code !== "ok") failedRequests += s.value;
        break;
      case "prediction_latency_seconds_bucket": {
        const le = s.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(s.labels.le);
        if (!Number.isNaN(le)) latencyBuckets.set(le, (latencyBuckets.get(le) ?? 0) + s.value);
        break;
      }
      case "inference_in_flight_requests":
        inFlight += s.value;
        break;
      case "inference_queue_depth":
        queuedRows += s.value;
        break;
      default:
    }
  }
  return { at, requests, failedRequests, latencyBuckets, inFlight, queuedRows };
}

/** What the page shows. */
export interface ServingStats {
  /** Requests per second over the interval; undefined with a single scrape. */
  readonly requestsPerSecond: number | undefined;
  /** Share of failed requests (0..1) in the window; undefined without requests. */
  readonly errorRatio: number | undefined;
  /** 99th percentile latency in seconds; undefined without requests. */
  readonly p99Seconds: number | undefined;
  /** Whether the latency and error share cover the last interval or the server's whole life. */
  readonly window: "interval" | "since-start";
  readonly totalRequests: number;
  readonly inFlight: number;
  readonly queuedRows: number;
}

/** Stats of `current`, over the interval since `previous` when there is one with requests in between. */
export function servingStats(previous: Scrape | undefined, current: Scrape): ServingStats {
  const seconds = previous === undefined ? 0 : (current.at - previous.at) / 1000;
  // A counter that went down means the server restarted: the interval is meaningless.
  const usable = previous !== undefined && seconds > 0 && current.requests >= previous.requests;
  const delta = usable && current.requests > previous.requests;
  const buckets = delta ? subtractBuckets(current.latencyBuckets, previous.latencyBuckets) : current.latencyBuckets;
  const requests = delta ? current.requests - previous.requests : current.requests;
  const failed = delta ? current.failedRequests - previous.failedRequests : current.failedRequests;
  return {
    requestsPerSecond: usable ? (current.requests - previous.requests) / seconds : undefined,
    errorRatio: requests > 0 ? failed / requests : undefined,
    p99Seconds: histogramQuantile(0.99, buckets),
    window: delta ? "interval" : "since-start",
    totalRequests: current.requests,
    inFlight: current.inFlight,
    queuedRows: current.queuedRows,
  };
}

function subtractBuckets(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [le, count] of a) out.set(le, Math.max(0, count - (b.get(le) ?? 0)));
  return out;
}

/**
 * Prometheus's histogram_quantile over cumulative buckets (upper bound -> count): linear
 * interpolation inside the bucket holding the rank; in the +Inf bucket, the highest finite bound.
 * Undefined when the histogram is empty.
 */
export function histogramQuantile(q: number, buckets: ReadonlyMap<number, number>): number | undefined {
  const sorted = [...buckets.entries()].sort((x, y) => x[0] - y[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return lowerBound;
      if (count === lowerCount) return le;
      return lowerBound + (le - lowerBound) * ((rank - lowerCount) / (count - lowerCount));
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}
