import { describe, expect, it } from "vitest";
import type { ModelManager } from "../models/model-manager.js";
import { createModelTraffic } from "./model-traffic.js";

/** A manager stand-in: only `name` and whether a version is served matter here. */
function manager(name: string, served: boolean): ModelManager {
  return { name, served: served ? {} : undefined } as Partial<ModelManager> as ModelManager;
}

describe("model traffic", () => {
  const champion = manager("champion", true);
  const challenger = manager("challenger", true);

  it("picks nothing without a split", () => {
    const traffic = createModelTraffic();
    expect(traffic.pick("")).toBeUndefined();
    expect(traffic.routes).toEqual([]);
  });

  it("splits requests between the aliases' managers by their percents", () => {
    const traffic = createModelTraffic();
    const routes = [
      { alias: "champion", percent: 75 },
      { alias: "challenger", percent: 25 },
    ];
    traffic.set(
      routes,
      new Map([
        ["champion", champion],
        ["challenger", challenger],
      ]),
    );
    const picks = Array.from({ length: 100 }, () => traffic.pick("")?.name);
    expect(picks.filter((n) => n === "challenger")).toHaveLength(25);
    expect(picks.filter((n) => n === "champion")).toHaveLength(75);
    expect(traffic.routes).toEqual(routes);
    expect(traffic.managers()).toEqual([champion, challenger]);
    // Removing the split.
    traffic.set([], new Map());
    expect(traffic.pick("")).toBeUndefined();
  });

  it("leaves a route whose version is not loaded, or whose alias has no manager, to the default", () => {
    const traffic = createModelTraffic();
    traffic.set(
      [
        { alias: "champion", percent: 50 },
        { alias: "challenger", percent: 50 },
      ],
      new Map([["challenger", manager("challenger", false)]]),
    );
    expect(Array.from({ length: 10 }, () => traffic.pick(""))).toEqual(Array(10).fill(undefined));
  });

  it("mirrors each shadow alias exactly its percent of the requests, only while its version is loaded", () => {
    const traffic = createModelTraffic();
    expect(traffic.shadowPick()).toEqual([]);
    traffic.setShadow(
      [
        { alias: "challenger", percent: 100 },
        { alias: "candidate", percent: 30 },
        { alias: "missing", percent: 100 },
      ],
      new Map([
        ["challenger", challenger],
        ["candidate", manager("candidate", true)],
      ]),
    );
    const picks = Array.from({ length: 100 }, () => traffic.shadowPick().map((t) => t.alias));
    expect(picks.filter((p) => p.includes("challenger"))).toHaveLength(100);
    expect(picks.filter((p) => p.includes("candidate"))).toHaveLength(30);
    expect(picks.some((p) => p.includes("missing"))).toBe(false);
    expect(traffic.shadowRoutes.map((r) => r.alias)).toEqual(["challenger", "candidate", "missing"]);

    traffic.setShadow([{ alias: "challenger", percent: 100 }], new Map([["challenger", manager("c", false)]]));
    expect(traffic.shadowPick()).toEqual([]);
    traffic.setShadow([], new Map());
    expect(traffic.shadowRoutes).toEqual([]);
  });
});
