import { describe, expect, it } from "vitest";
import { toggled } from "./toggled.js";

describe("toggled", () => {
  it("adds an absent item and removes a present one, leaving the original set as it was", () => {
    const set = new Set(["a"]);
    expect([...toggled(set, "b")]).toEqual(["a", "b"]);
    expect([...toggled(set, "a")]).toEqual([]);
    expect([...set]).toEqual(["a"]);
  });
});
