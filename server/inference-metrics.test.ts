import { describe, expect, it } from "vitest";
import { createInferenceMetrics } from "./inference-metrics.js";

/** The value of one sample line of the exposition text, or undefined when absent. */
function sample(text: string, line: string): number | undefined {
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe("inference metrics", () => {
  it("adds request tallies to prediction_requests_total at each scrape, once, beside direct increments", async () => {
    const m = createInferenceMetrics({ processMetrics: false });
    const ok = m.requestTally("http", "ok", "iris");
    for (let i = 0; i < 5; i++) ok.inc();
    m.requestTally("http", "ok", "iris").inc();
    m.requestTally("grpc", "invalid_argument", "").inc();
    m.requests.inc({ protocol: "http", code: "resource_exhausted", model: "iris" });
    m.requestTally("http", "ok", "wine").inc();

    const first = await m.registry.metrics();
    expect(sample(first, 'prediction_requests_total{protocol="http",code="ok",model="iris"}')).toBe(6);
    expect(sample(first, 'prediction_requests_total{protocol="grpc",code="invalid_argument",model=""}')).toBe(1);
    expect(sample(first, 'prediction_requests_total{protocol="http",code="resource_exhausted",model="iris"}')).toBe(1);
    expect(sample(first, 'prediction_requests_total{protocol="http",code="ok",model="wine"}')).toBe(1);

    // A second scrape without new requests reports the same totals; new ones add up.
    expect(
      sample(await m.registry.metrics(), 'prediction_requests_total{protocol="http",code="ok",model="iris"}'),
    ).toBe(6);
    ok.inc();
    const third = await m.registry.metrics();
    expect(sample(third, 'prediction_requests_total{protocol="http",code="ok",model="iris"}')).toBe(7);
    expect(sample(third, 'prediction_requests_total{protocol="grpc",code="invalid_argument",model=""}')).toBe(1);
  });

  it("hands buffered latency samples to the histogram exactly, when the buffer fills and at each scrape", async () => {
    const m = createInferenceMetrics({ processMetrics: false });
    const labels = { model: "iris", version: "3" };
    const latency = m.sampleObserver("latency", labels);
    expect(m.sampleObserver("latency", labels)).toBe(latency);
    // More samples than one buffer holds: 2000 of 40 µs (under the 50 µs bucket) and 500 of 3 ms.
    for (let i = 0; i < 2000; i++) latency.observe(0.00004);
    for (let i = 0; i < 500; i++) latency.observe(0.003);
    m.sampleObserver("queue", labels).observe(0.0002);

    const text = await m.registry.metrics();
    const series = 'model="iris",version="3"';
    expect(sample(text, `prediction_latency_seconds_count{${series}}`)).toBe(2500);
    expect(sample(text, `prediction_latency_seconds_bucket{le="0.00005",${series}}`)).toBe(2000);
    expect(sample(text, `prediction_latency_seconds_bucket{le="0.005",${series}}`)).toBe(2500);
    expect(sample(text, `prediction_latency_seconds_sum{${series}}`)).toBeCloseTo(2000 * 0.00004 + 500 * 0.003, 9);
    expect(sample(text, `inference_queue_time_seconds_count{${series}}`)).toBe(1);

    latency.observe(0.5);
    const next = await m.registry.metrics();
    expect(sample(next, `prediction_latency_seconds_count{${series}}`)).toBe(2501);
    expect(sample(next, `prediction_latency_seconds_bucket{le="0.005",${series}}`)).toBe(2500);
    expect(sample(next, `prediction_latency_seconds_bucket{le="0.5",${series}}`)).toBe(2501);
  });
});
