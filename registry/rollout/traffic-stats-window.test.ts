import { describe, expect, it } from "vitest";
import { createTrafficStatsWindow, type VersionReport } from "./traffic-stats-window.js";

const boundsMs = [1, 10];
const report = (version: bigint, requests: number, errors: number, counts: number[]): VersionReport => ({
  version,
  requests,
  errors,
  latency: { boundsMs, counts },
});

describe("traffic stats window", () => {
  it("merges the reports of several replicas per version", () => {
    const w = createTrafficStatsWindow();
    w.record("m", "a", [report(1n, 10, 1, [5, 4, 0]), report(2n, 3, 0, [0, 3, 0])], 100);
    w.record("m", "b", [report(1n, 20, 2, [10, 8, 0])], 110);
    w.record("m", "a", [report(1n, 1, 0, [0, 0, 1])], 120);
    w.record("other", "a", [report(1n, 50, 0, [50, 0, 0])], 120);
    expect(w.merged("m", 1n, 0)).toEqual({
      requests: 31,
      errors: 3,
      latency: { boundsMs, counts: [15, 12, 1] },
      replicas: 2,
    });
    expect(w.merged("m", 2n, 0)).toMatchObject({ requests: 3, replicas: 1 });
    expect(w.merged("m", 3n, 0)).toEqual({
      requests: 0,
      errors: 0,
      latency: { boundsMs: [], counts: [0] },
      replicas: 0,
    });
  });

  it("counts only the reports received since the step began, and drops older ones", () => {
    const w = createTrafficStatsWindow();
    w.record("m", "a", [report(1n, 10, 0, [10, 0, 0])], 100);
    w.record("m", "a", [report(1n, 5, 0, [5, 0, 0])], 200);
    expect(w.merged("m", 1n, 150).requests).toBe(5);
    w.dropBefore("m", 150);
    expect(w.merged("m", 1n, 0).requests).toBe(5);
    w.forget("m");
    expect(w.merged("m", 1n, 0).requests).toBe(0);
  });

  it("keeps a bounded number of reports per model, the newest", () => {
    const w = createTrafficStatsWindow({ maxReportsPerModel: 2 });
    for (let i = 1; i <= 3; i++) w.record("m", "a", [report(1n, i, 0, [i, 0, 0])], i);
    expect(w.merged("m", 1n, 0).requests).toBe(2 + 3);
  });

  it("leaves reports with other latency bounds out of the histogram, not out of the counts", () => {
    const w = createTrafficStatsWindow();
    w.record("m", "old", [{ version: 1n, requests: 4, errors: 0, latency: { boundsMs: [5], counts: [4, 0] } }], 1);
    w.record("m", "new", [report(1n, 2, 0, [1, 1, 0])], 2);
    expect(w.merged("m", 1n, 0)).toMatchObject({ requests: 6, latency: { boundsMs, counts: [1, 1, 0] } });
  });
});
