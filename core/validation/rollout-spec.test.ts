import { describe, expect, it } from "vitest";
import { formatRolloutSpec, parseDurationMs, parseRolloutSpec } from "./rollout-spec.js";

describe("rollout spec", () => {
  it("fills the defaults around the two aliases", () => {
    expect(parseRolloutSpec("champion=champion,challenger=challenger")).toEqual({
      ok: true,
      spec: {
        champion: "champion",
        challenger: "challenger",
        step: 10,
        intervalMs: 60_000,
        maxWeight: 100,
        minRequests: 100,
        maxErrorIncrease: 0.01,
        maxP99Ratio: 1.5,
      },
    });
  });

  it("reads every key and formats back to the same spec", () => {
    const value =
      "champion=blue, challenger=green,step=25,interval=300ms,max_weight=50,min_requests=5,max_error_increase=0.2,max_p99_ratio=2";
    const parsed = parseRolloutSpec(value);
    expect(parsed).toMatchObject({ ok: true, spec: { step: 25, intervalMs: 300, maxWeight: 50, maxP99Ratio: 2 } });
    if (parsed.ok) expect(parseRolloutSpec(formatRolloutSpec(parsed.spec))).toEqual(parsed);
    const tiny = parseRolloutSpec("champion=a,challenger=b,max_error_increase=0.0000001");
    expect(tiny.ok && formatRolloutSpec(tiny.spec)).toMatch(/max_error_increase=0\.0000001,/);
  });

  it.each([
    ["challenger=b", /champion \(an alias\) is required/],
    ["champion=a", /challenger \(an alias\) is required/],
    ["champion=a,challenger=a", /must be different/],
    ["champion=latest,challenger=b", /champion alias 'latest' is reserved/],
    ["champion=a,challenger=b,step=0", /step must be a whole number from 1 to 100/],
    ["champion=a,challenger=b,step=2.5", /step must be a whole number/],
    ["champion=a,challenger=b,max_weight=101", /max_weight must be/],
    ["champion=a,challenger=b,max_error_increase=-1", /max_error_increase must be a number from 0 to 1/],
    ["champion=a,challenger=b,max_p99_ratio=0.5", /max_p99_ratio must be a number from 1/],
    ["champion=a,challenger=b,interval=10", /interval must be a duration/],
    ["champion=a,challenger=b,interval=50ms", /interval must be a duration from 100ms/],
    ["champion=a,challenger=b,interval=8000h", /to 7 days/],
    ["champion=a,challenger=b,colour=red", /unknown key "colour"/],
    ["champion=a,challenger=b,step=1,step=2", /"step" is given twice/],
    ["champion", /is not key=value/],
    ["", /is not key=value/],
  ])("refuses %j", (value, problem) => {
    const parsed = parseRolloutSpec(value);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });

  it("reads durations in ms, s, m and h", () => {
    expect([parseDurationMs("300ms"), parseDurationMs("60s"), parseDurationMs("5m"), parseDurationMs("1h")]).toEqual([
      300, 60_000, 300_000, 3_600_000,
    ]);
    expect(parseDurationMs("1.5s")).toBeUndefined();
  });
});
