import { describe, expect, it } from "vitest";
import { latencyQuantileMs } from "./latency-quantile.js";

describe("latencyQuantileMs", () => {
  const boundsMs = [1, 2, 5, 10];

  it("interpolates inside the bucket holding the rank", () => {
    // 100 requests: 50 up to 1 ms, 50 in (2, 5]: the p99 rank 99 is the 49th of the 50 in (2, 5].
    expect(latencyQuantileMs({ boundsMs, counts: [50, 0, 50, 0, 0] }, 0.99)).toBeCloseTo(2 + (3 * 49) / 50);
    expect(latencyQuantileMs({ boundsMs, counts: [100, 0, 0, 0, 0] }, 0.5)).toBeCloseTo(0.5);
  });

  it("answers the last bound for ranks above it, nothing for an empty histogram", () => {
    expect(latencyQuantileMs({ boundsMs, counts: [1, 0, 0, 0, 99] }, 0.99)).toBe(10);
    expect(latencyQuantileMs({ boundsMs, counts: [0, 0, 0, 0, 0] }, 0.99)).toBeUndefined();
  });
});
