import { describe, expect, it } from "vitest";
import { parseShadowRoutes } from "./shadow-routes.js";

describe("parseShadowRoutes", () => {
  it("reads aliases with independent percents", () => {
    expect(parseShadowRoutes("challenger=100")).toEqual({ ok: true, routes: [{ alias: "challenger", percent: 100 }] });
    expect(parseShadowRoutes(" a=30 , b = 70,c=0")).toEqual({
      ok: true,
      routes: [
        { alias: "a", percent: 30 },
        { alias: "b", percent: 70 },
        { alias: "c", percent: 0 },
      ],
    });
  });

  it.each([
    ["", "is not alias=percent"],
    ["challenger", "is not alias=percent"],
    ["challenger=101", "0 to 100"],
    ["challenger=-1", "is not alias=percent"],
    ["a=1,a=2", "named twice"],
    ["a=1,b=1,c=1,d=1", "at most 3"],
    ["Bad Alias=10", "is not alias=percent"],
  ])("refuses %j", (value, problem) => {
    const parsed = parseShadowRoutes(value);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain(problem);
  });
});
