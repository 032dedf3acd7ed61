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
    const ok = m.requestTally("http", "ok");
    for (let i = 0; i < 5; i++) ok.inc();
    m.requestTally("http", "ok").inc();
    m.requestTally("grpc", "invalid_argument").inc();
    m.requests.inc({ protocol: "http", code: "resource_exhausted" });

    const first = await m.registry.metrics();
    expect(sample(first, 'prediction_requests_total{protocol="http",code="ok"}')).toBe(6);
    expect(sample(first, 'prediction_requests_total{protocol="grpc",code="invalid_argument"}')).toBe(1);
    expect(sample(first, 'prediction_requests_total{protocol="http",code="resource_exhausted"}')).toBe(1);

    // A second scrape without new requests reports the same totals; new ones add up.
    expect(sample(await m.registry.metrics(), 'prediction_requests_total{protocol="http",code="ok"}')).toBe(6);
    ok.inc();
    const third = await m.registry.metrics();
    expect(sample(third, 'prediction_requests_total{protocol="http",code="ok"}')).toBe(7);
    expect(sample(third, 'prediction_requests_total{protocol="grpc",code="invalid_argument"}')).toBe(1);
  });
});
