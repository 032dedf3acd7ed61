import { describe, expect, it } from "vitest";
import { createRateLimiter } from "./rate-limiter.js";

describe("createRateLimiter", () => {
  it("lets a burst through, then refills at the rate, per key", () => {
    let t = 0;
    const limiter = createRateLimiter({ ratePerSecond: 2, burst: 3, now: () => t });
    expect([limiter.take("a"), limiter.take("a"), limiter.take("a")]).toEqual([undefined, undefined, undefined]);
    expect(limiter.take("a")).toBe(1);
    expect(limiter.take("b")).toBeUndefined();
    t = 500; // half a second: one call refilled
    expect(limiter.take("a")).toBeUndefined();
    expect(limiter.take("a")).toBe(1);
    t = 60_000; // never more than the burst
    expect([limiter.take("a"), limiter.take("a"), limiter.take("a"), limiter.take("a")]).toEqual([
      undefined,
      undefined,
      undefined,
      1,
    ]);
  });

  it("says how many seconds until a call is free at a slow rate", () => {
    const limiter = createRateLimiter({ ratePerSecond: 0.1, burst: 1, now: () => 0 });
    expect(limiter.take("a")).toBeUndefined();
    expect(limiter.take("a")).toBe(10);
  });

  it("forgets the idlest principal beyond maxKeys", () => {
    const limiter = createRateLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 2, now: () => 0 });
    limiter.take("a");
    limiter.take("b");
    limiter.take("c");
    // "a" was dropped, so it starts again with a full bucket; "c" is still empty.
    expect(limiter.take("a")).toBeUndefined();
    expect(limiter.take("c")).toBe(1);
  });
});
