/**
 * The inference server's own view of a measurement, from its Prometheus GET /metrics: batches
 * run, mean batch size, mean time in the batching queue, rows dropped. Read before and after a
 * measurement; the difference covers exactly the requests in between.
 */

/** Cumulative counters read from one /metrics scrape. */
export interface MetricsSnapshot {
  readonly batchRows: number;
  readonly batches: number;
  readonly queueSeconds: number;
  readonly queued: number;
  readonly dropped: number;
}

/** What the server saw between two snapshots. */
export interface ServerView {
  /** Batches the model ran. */
  readonly batches: number;
  /** Mean rows per batch (inference_batch_size). */
  readonly meanBatchSize: number;
  /** Mean wait in the batching queue, ms (inference_queue_time_seconds). */
  readonly meanQueueMs: number;
  /** Queued requests dropped (deadline passed, caller gone). */
  readonly dropped: number;
}

/** Sums every sample of metric `name` in Prometheus text (all label sets). */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (\S+)/.exec(line);
    if (m?.[1] === name) sum += Number(m[2]);
  }
  return sum;
}

/**
 * Sums the samples of metric `name` in Prometheus text whose labels include every one of `labels`
 * (other labels may differ), e.g. `shadow_requests_total` with `{ outcome: "dropped" }`.
 */
export function metricSumWhere(text: string, name: string, labels: Readonly<Record<string, string>>): number {
  const wanted = Object.entries(labels);
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (m?.[1] !== name) continue;
    const have = new Map<string, string>();
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      have.set(
        l[1] ?? "",
        (l[2] ?? "").replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c)),
      );
    }
    if (wanted.every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

/** Scrapes `<baseUrl>/metrics`. */
export async function scrapeMetrics(baseUrl: string): Promise<MetricsSnapshot> {
  const res = await fetch(new URL("/metrics", baseUrl));
  const text = await res.text();
  return {
    batchRows: metricSum(text, "inference_batch_size_sum"),
    batches: metricSum(text, "inference_batch_size_count"),
    queueSeconds: metricSum(text, "inference_queue_time_seconds_sum"),
    queued: metricSum(text, "inference_queue_time_seconds_count"),
    dropped: metricSum(text, "inference_dropped_requests_total"),
  };
}

/** The difference of two snapshots. */
export function serverView(before: MetricsSnapshot, after: MetricsSnapshot): ServerView {
  const batches = after.batches - before.batches;
  const queued = after.queued - before.queued;
  return {
    batches,
    meanBatchSize: batches === 0 ? 0 : (after.batchRows - before.batchRows) / batches,
    meanQueueMs: queued === 0 ? 0 : ((after.queueSeconds - before.queueSeconds) / queued) * 1000,
    dropped: after.dropped - before.dropped,
  };
}
