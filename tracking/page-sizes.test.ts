import { describe, expect, it } from "vitest";
import { validatePageSize } from "../core/validation/numbers.js";
import { rejects } from "../test/support/expect-invalid-argument.js";
import { pageSizes } from "./page-sizes.js";

describe("page sizes", () => {
  it("applies page size defaults and maxima", () => {
    expect(validatePageSize(0, pageSizes.searchRuns)).toBe(1000);
    expect(validatePageSize(0, pageSizes.searchExperiments)).toBe(100);
    expect(validatePageSize(0, pageSizes.metricHistory)).toBe(25_000);
    expect(validatePageSize(50_000, pageSizes.searchRuns)).toBe(50_000);
    rejects(() => validatePageSize(50_001, pageSizes.searchRuns), "max_results");
    rejects(() => validatePageSize(1001, pageSizes.searchExperiments), "max_results");
    rejects(() => validatePageSize(-1, pageSizes.metricHistory), "max_results");
  });
});
