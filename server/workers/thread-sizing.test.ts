import { describe, expect, it } from "vitest";
import { sizeThreads } from "./thread-sizing.js";

describe("sizeThreads", () => {
  it.each([
    [{ cores: 8 }, { workers: 8, intraOpThreads: 1, clamped: false }],
    [
      { cores: 8, intraOpThreads: 2 },
      { workers: 4, intraOpThreads: 2, clamped: false },
    ],
    [
      { cores: 8, workers: 2, intraOpThreads: 4 },
      { workers: 2, intraOpThreads: 4, clamped: false },
    ],
    [
      { cores: 2, workers: 4 },
      { workers: 2, intraOpThreads: 1, clamped: true },
    ],
    [
      { cores: 2, workers: 2, intraOpThreads: 2 },
      { workers: 1, intraOpThreads: 2, clamped: true },
    ],
    [
      { cores: 2, intraOpThreads: 16 },
      { workers: 1, intraOpThreads: 2, clamped: true },
    ],
    [{ cores: 0 }, { workers: 1, intraOpThreads: 1, clamped: false }],
  ])("%j -> %j, never more threads than cores", (options, want) => {
    const got = sizeThreads(options);
    expect(got).toEqual(want);
    expect(got.workers * got.intraOpThreads).toBeLessThanOrEqual(Math.max(1, options.cores));
  });
});
