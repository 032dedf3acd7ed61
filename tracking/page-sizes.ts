import type { PageSizeRule } from "../core/validation/numbers.js";

/** Page sizes of the tracking API's paged reads, as documented in tracking.proto. */
export const pageSizes = {
  searchExperiments: { default: 100, max: 1000 },
  searchRuns: { default: 1000, max: 50_000 },
  metricHistory: { default: 25_000, max: 50_000 },
} as const satisfies Record<string, PageSizeRule>;
