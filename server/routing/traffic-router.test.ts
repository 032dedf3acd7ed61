import { describe, expect, it } from "vitest";
import { createTrafficRouter, fnv1a } from "./traffic-router.js";

const split = (champion: number, challenger: number) =>
  createTrafficRouter([
    { alias: "champion", percent: champion },
    { alias: "challenger", percent: challenger },
  ]);

function shares(pick: () => string | undefined, n: number): Map<string | undefined, number> {
  const counts = new Map<string | undefined, number>();
  for (let i = 0; i < n; i++) {
    const alias = pick();
    counts.set(alias, (counts.get(alias) ?? 0) + 1);
  }
  return counts;
}

describe("traffic router", () => {
  it("refuses a split without a route that has a share", () => {
    expect(() => createTrafficRouter([{ alias: "champion", percent: 0 }])).toThrow(/needs a route/);
  });

  it("gives each route exactly its percent of every 100 requests without a key", () => {
    const router = split(90, 10);
    for (let round = 0; round < 3; round++) {
      expect(shares(() => router.route(""), 100)).toEqual(
        new Map([
          ["champion", 90],
          ["challenger", 10],
        ]),
      );
    }
    // Interleaved, not in blocks: the challenger's 10 are spread over the 100.
    const first20 = Array.from({ length: 20 }, () => router.route(""));
    expect(first20.filter((a) => a === "challenger")).toHaveLength(2);
  });

  it("routes a key to the same alias every time, and keys by their share", () => {
    const router = split(90, 10);
    const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);
    const first = keys.map((k) => router.route(k));
    expect(keys.map((k) => router.route(k))).toEqual(first);
    // Another router of the same split (another replica) agrees.
    expect(keys.map((k) => split(90, 10).route(k))).toEqual(first);
    const challenger = first.filter((a) => a === "challenger").length / keys.length;
    expect(challenger).toBeGreaterThan(0.09);
    expect(challenger).toBeLessThan(0.11);
  });

  it("keeps the keys of a growing last route with it", () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `session-${i}`);
    const at10 = keys.filter((k) => split(90, 10).route(k) === "challenger");
    const at50 = new Set(keys.filter((k) => split(50, 50).route(k) === "challenger"));
    expect(at10.length).toBeGreaterThan(0);
    expect(at10.every((k) => at50.has(k))).toBe(true);
    expect(at50.size).toBeGreaterThan(at10.length);
  });

  it("skips routes at 0 percent", () => {
    const router = split(100, 0);
    expect(shares(() => router.route(""), 50)).toEqual(new Map([["champion", 50]]));
    expect(router.route("anyone")).toBe("champion");
  });

  it("hashes keys with 32-bit FNV-1a", () => {
    // Reference values of FNV-1a 32 ("" is the offset basis).
    expect(fnv1a("")).toBe(0x811c9dc5);
    expect(fnv1a("a")).toBe(0xe40c292c);
    expect(fnv1a("foobar")).toBe(0xbf9cf968);
  });
});
