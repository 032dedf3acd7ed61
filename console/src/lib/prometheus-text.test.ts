import { describe, expect, it } from "vitest";
import { parsePrometheusText } from "./prometheus-text.js";

describe("parsePrometheusText", () => {
  it("reads samples with and without labels, skipping comments and blank lines", () => {
    const text = [
      "# HELP prediction_requests_total Prediction requests answered.",
      "# TYPE prediction_requests_total counter",
      'prediction_requests_total{protocol="http",code="ok"} 12',
      "",
      "inference_in_flight_requests 0",
      'prediction_latency_seconds_bucket{le="+Inf",model="iris",version="1"} 3 1700000000000',
    ].join("\n");
    expect(parsePrometheusText(text)).toEqual([
      { name: "prediction_requests_total", labels: { protocol: "http", code: "ok" }, value: 12 },
      { name: "inference_in_flight_requests", labels: {}, value: 0 },
      { name: "prediction_latency_seconds_bucket", labels: { le: "+Inf", model: "iris", version: "1" }, value: 3 },
    ]);
  });

  it("unescapes label values and reads NaN and infinities", () => {
    const [a, b, c] = parsePrometheusText('m{a="x\\"y\\\\z\\n"} NaN\nm +Inf\nm -Inf\n');
    expect(a?.labels.a).toBe('x"y\\z\n');
    expect(a?.value).toBeNaN();
    expect(b?.value).toBe(Number.POSITIVE_INFINITY);
    expect(c?.value).toBe(Number.NEGATIVE_INFINITY);
  });

  it("skips malformed lines instead of failing the page", () => {
    expect(parsePrometheusText('m{a="x} 1\n{} 2\nm abc\nok 1.5e3\n')).toEqual([
      { name: "ok", labels: {}, value: 1500 },
    ]);
  });
});
