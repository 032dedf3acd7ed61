import { describe, expect, it } from "vitest";
import { parsePrometheusText } from "./prometheus-text.js";
import { histogramQuantile, readScrape, servingStats } from "./serving-stats.js";

/** A metrics page as the inference server writes it, for `ok` and `failed` requests. */
function page(ok: number, failed: number, buckets: Readonly<Record<string, number>>): string {
  const lines = [
    `prediction_requests_total{protocol="http",code="ok"} ${ok}`,
    `prediction_requests_total{protocol="grpc",code="invalid_argument"} ${failed}`,
    "inference_in_flight_requests 2",
    'inference_queue_depth{model="iris",version="1"} 5',
  ];
  for (const [le, count] of Object.entries(buckets)) {
    lines.push(`prediction_latency_seconds_bucket{le="${le}",model="iris",version="1"} ${count}`);
  }
  return lines.join("\n");
}

describe("histogramQuantile", () => {
  it("interpolates inside the bucket that holds the rank, as Prometheus does", () => {
    const buckets = new Map([
      [0.001, 50],
      [0.01, 100],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.001);
    expect(histogramQuantile(0.99, buckets)).toBeCloseTo(0.001 + 0.009 * (49 / 50));
  });

  it("answers the highest finite bound for a rank in +Inf, and undefined when empty", () => {
    expect(
      histogramQuantile(
        0.99,
        new Map([
          [0.1, 1],
          [Number.POSITIVE_INFINITY, 10],
        ]),
      ),
    ).toBe(0.1);
    expect(histogramQuantile(0.99, new Map([[Number.POSITIVE_INFINITY, 0]]))).toBeUndefined();
  });
});

describe("servingStats", () => {
  it("reports rate, error share and p99 over the interval between two scrapes", () => {
    const first = readScrape(parsePrometheusText(page(100, 0, { "0.001": 100, "0.01": 100, "+Inf": 100 })), 0);
    const second = readScrape(parsePrometheusText(page(290, 10, { "0.001": 100, "0.01": 300, "+Inf": 300 })), 2_000);
    const stats = servingStats(first, second);
    expect(stats.window).toBe("interval");
    expect(stats.requestsPerSecond).toBe(100);
    expect(stats.errorRatio).toBeCloseTo(10 / 200);
    // All 200 requests of the interval took 1-10 ms: p99 interpolates within that bucket.
    expect(stats.p99Seconds).toBeCloseTo(0.001 + 0.009 * 0.99);
    expect(stats.inFlight).toBe(2);
    expect(stats.queuedRows).toBe(5);
    expect(stats.totalRequests).toBe(300);
  });

  it("falls back to the whole life of the server with one scrape, an idle interval or a restart", () => {
    const only = readScrape(parsePrometheusText(page(10, 0, { "0.001": 10, "+Inf": 10 })), 0);
    expect(servingStats(undefined, only)).toMatchObject({ window: "since-start", requestsPerSecond: undefined });
    expect(servingStats(undefined, only).p99Seconds).toBeCloseTo(0.001 * 0.99);
    const idle = servingStats(only, { ...only, at: 1_000 });
    expect(idle).toMatchObject({ window: "since-start", requestsPerSecond: 0 });
    const restarted = readScrape(parsePrometheusText(page(1, 0, { "0.001": 1, "+Inf": 1 })), 2_000);
    expect(servingStats(only, restarted)).toMatchObject({ window: "since-start", requestsPerSecond: undefined });
  });
});
