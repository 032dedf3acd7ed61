import { describe, expect, it } from "vitest";
import { smoothSeries } from "./ema-smoothing.js";

describe("smoothSeries", () => {
  it("returns the values unchanged at weight 0", () => {
    expect(smoothSeries([3, 1, 2], 0)).toEqual([3, 1, 2]);
  });

  it("debiases: the first point is the first value, a constant series stays constant", () => {
    expect(smoothSeries([5, 5, 5, 5], 0.9)).toEqual([5, 5, 5, 5].map(() => expect.closeTo(5, 10)));
    expect(smoothSeries([10, 0], 0.5)[0]).toBeCloseTo(10);
    // second: (0.5 * 0.5 * 10 + 0.5 * 0) / (1 - 0.25) = 2.5 / 0.75
    expect(smoothSeries([10, 0], 0.5)[1]).toBeCloseTo(2.5 / 0.75);
  });

  it("keeps NaN and infinite points and leaves them out of the average", () => {
    const smoothed = smoothSeries([1, Number.NaN, Number.POSITIVE_INFINITY, 1], 0.6);
    expect(smoothed[1]).toBeNaN();
    expect(smoothed[2]).toBe(Number.POSITIVE_INFINITY);
    expect(smoothed[3]).toBeCloseTo(1);
  });
});
