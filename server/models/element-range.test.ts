import { describe, expect, it } from "vitest";
import { elementRangeProblem } from "./element-range.js";

describe("elementRangeProblem", () => {
  it("refuses float32 values that would become Infinity, keeps those that round to a finite float32", () => {
    for (const v of [1e39, -1e39, 1e308, -Number.MAX_VALUE, 3.5e38]) {
      expect(elementRangeProblem("float32", v)).toContain("out of range");
    }
    for (const v of [0, -0, 5.1, 3.4028234663852886e38, -3.4028234663852886e38, 1e-50]) {
      expect(elementRangeProblem("float32", v)).toBeUndefined();
    }
  });

  it("takes any finite number as float64", () => {
    expect(elementRangeProblem("float64", 1e308)).toBeUndefined();
  });

  it("takes only integers in range for int32 and exact ones for int64", () => {
    expect(elementRangeProblem("int32", 2147483647)).toBeUndefined();
    expect(elementRangeProblem("int32", -2147483648)).toBeUndefined();
    expect(elementRangeProblem("int32", 2147483648)).toContain("int32");
    expect(elementRangeProblem("int32", 1.5)).toContain("int32");
    expect(elementRangeProblem("int64", 2 ** 53 - 1)).toBeUndefined();
    expect(elementRangeProblem("int64", 2 ** 53)).toContain("int64");
    expect(elementRangeProblem("int64", 0.5)).toContain("int64");
  });
});
