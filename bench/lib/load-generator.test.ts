import { describe, expect, it } from "vitest";
import { dueCount } from "./load-generator.js";

describe("dueCount", () => {
  it("makes each request due at its intended send time, the first at the start", () => {
    // 500 requests/s: one every 2 ms, request k intended at 2k ms.
    expect(dueCount(0, 2)).toBe(1);
    expect(dueCount(1.999, 2)).toBe(1);
    expect(dueCount(2, 2)).toBe(2);
    expect(dueCount(9.5, 2)).toBe(5);
    expect(dueCount(1000, 2)).toBe(501);
  });

  it("sends a burst of every request that fell due since the last tick", () => {
    // 4,000 requests/s (one every 0.25 ms) and a tick 1.25 ms after the last: 5 more requests due.
    expect(dueCount(4, 0.25)).toBe(17);
    expect(dueCount(5.25, 0.25) - dueCount(4, 0.25)).toBe(5);
  });
});
