import { describe, expect, it } from "vitest";
import { filterErrorLocation } from "./filter-error.js";

describe("filterErrorLocation", () => {
  it("reads the position and reason of an invalid filter", () => {
    expect(filterErrorLocation("[invalid_argument] invalid filter at position 17: expected a value")).toEqual({
      position: 17,
      reason: "expected a value",
    });
  });

  it("is undefined for other errors", () => {
    expect(filterErrorLocation('invalid order_by "x": unknown field')).toBeUndefined();
  });
});
