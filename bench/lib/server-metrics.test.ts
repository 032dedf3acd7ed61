import { describe, expect, it } from "vitest";
import { metricSum, metricSumWhere } from "./server-metrics.js";

const text = [
  "# HELP shadow_requests_total Requests mirrored to a shadow version.",
  "# TYPE shadow_requests_total counter",
  'shadow_requests_total{model="iris",alias="shadow",outcome="agree"} 90',
  'shadow_requests_total{model="iris",alias="shadow",outcome="dropped"} 3',
  'shadow_requests_total{model="iris",alias="other",outcome="agree"} 5',
  'shadow_requests_total{model="say \\"hi\\"",alias="shadow",outcome="agree"} 1',
  'prediction_latency_seconds_count{model="iris",version="2"} 7',
  "prediction_latency_seconds_count 4",
].join("\n");

describe("metricSumWhere", () => {
  it("sums the samples whose labels include the wanted ones", () => {
    expect(metricSumWhere(text, "shadow_requests_total", { alias: "shadow", outcome: "agree" })).toBe(91);
    expect(metricSumWhere(text, "shadow_requests_total", { model: "iris", alias: "shadow" })).toBe(93);
    expect(metricSumWhere(text, "shadow_requests_total", { model: 'say "hi"' })).toBe(1);
    expect(metricSumWhere(text, "prediction_latency_seconds_count", { version: "2" })).toBe(7);
  });

  it("with no labels wanted is metricSum, and a missing label or metric sums to 0", () => {
    expect(metricSumWhere(text, "prediction_latency_seconds_count", {})).toBe(11);
    expect(metricSum(text, "prediction_latency_seconds_count")).toBe(11);
    expect(metricSumWhere(text, "prediction_latency_seconds_count", { version: "3" })).toBe(0);
    expect(metricSumWhere(text, "shadow_latency_seconds_count", {})).toBe(0);
  });
});
