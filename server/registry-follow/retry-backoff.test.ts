import { describe, expect, it } from "vitest";
import { createBackoff, sleep } from "./retry-backoff.js";

describe("retry backoff", () => {
  it("doubles the ceiling up to the maximum, waits between half and all of it, and resets", () => {
    const low = createBackoff({ initialMs: 100, maxMs: 500, random: () => 0 });
    expect([low.next(), low.next(), low.next(), low.next(), low.next()]).toEqual([50, 100, 200, 250, 250]);
    low.reset();
    expect(low.next()).toBe(50);
    const high = createBackoff({ initialMs: 100, maxMs: 500, random: () => 0.999999 });
    expect([high.next(), high.next(), high.next(), high.next()]).toEqual([100, 200, 400, 500]);
  });

  it("ends a sleep early when its signal aborts", async () => {
    const abort = new AbortController();
    const slept = sleep(60 * 60_000, abort.signal);
    abort.abort();
    await expect(slept).resolves.toBeUndefined();
    await expect(sleep(60 * 60_000, abort.signal)).resolves.toBeUndefined();
  });
});
