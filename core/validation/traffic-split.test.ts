import { describe, expect, it } from "vitest";
import { parseTrafficSplit } from "./traffic-split.js";

describe("traffic split", () => {
  it("parses alias=percent routes in order, spaces allowed", () => {
    expect(parseTrafficSplit("champion=90, challenger = 10")).toEqual({
      ok: true,
      routes: [
        { alias: "champion", percent: 90 },
        { alias: "challenger", percent: 10 },
      ],
    });
    expect(parseTrafficSplit("champion=100,challenger=0")).toMatchObject({ ok: true });
  });

  it.each([
    ["champion=90,challenger=20", /sum to 100, not 110/],
    ["champion=90", /sum to 100, not 90/],
    ["champion", /is not alias=percent/],
    ["champion=-5,x=105", /is not alias=percent/],
    ["champion=101", /percent must be 0 to 100/],
    ["champion=50,champion=50", /named twice/],
    ["latest=100", /reserved/],
    ["", /is not alias=percent/],
    [Array.from({ length: 11 }, (_, i) => `a${i}=0`).join(","), /at most 10 aliases/],
  ])("refuses %j", (value, problem) => {
    const parsed = parseTrafficSplit(value);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });
});
