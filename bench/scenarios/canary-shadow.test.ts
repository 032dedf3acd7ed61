import { describe, expect, it } from "vitest";
import type { LatencySummary } from "../lib/latency.js";
import type { PhasedLoadResult, PhaseResult } from "../lib/phased-open-loop.js";
import {
  type CanaryVersions,
  canaryShadowMetrics,
  type PhaseServerSide,
  shadowInForce,
  shadowStopped,
  splitInForce,
} from "./canary-shadow.js";

const versions: CanaryVersions = { champion: "1", challenger: "2", shadow: "3" };

function latency(p99: number, p50 = p99 / 4): LatencySummary {
  return { count: 1, p50, p90: p99, p95: p99, p99, p999: p99, max: p99, mean: p50 };
}

function phase(name: string, answers: Record<string, number>, p99: number, generatorCpuCores = 0.2): PhaseResult {
  const ok = Object.values(answers).reduce((a, b) => a + b, 0);
  return {
    name,
    versions: answers,
    beforeSeconds: 1,
    inFlightAtOpen: 0,
    load: {
      mode: "open",
      concurrency: undefined,
      targetRate: 1000,
      seconds: 1,
      throughput: ok,
      ok,
      latencyMs: latency(p99),
      errors: {},
      errorLatencyMs: latency(0),
      generatorCpuCores,
    },
  };
}

function side(
  cpuCores: number | undefined,
  shadow = { agree: 0, disagree: 0, error: 0, dropped: 0 },
  answered = 0,
): PhaseServerSide {
  return { cpuCores, view: undefined, answered, shadow, onEventLoop: { champion: 2, challenger: 2, shadow: 2 } };
}

describe("canaryShadowMetrics", () => {
  it("measures the split over every phase, the p99 of each group and of each shadow phase against its neighbours, and the mirrors", () => {
    const load: PhasedLoadResult = {
      phases: [
        phase("off 1", { "1": 900, "2": 100 }, 4),
        phase("on 1", { "1": 890, "2": 110 }, 5, 0.3),
        phase("off 2", { "1": 905, "2": 95 }, 6),
        phase("on 2", { "1": 900, "2": 100 }, 4.5),
        phase("off 3", { "1": 900, "2": 100 }, 3),
      ],
      groups: { off: latency(5, 1), on: latency(5.5, 1.2) },
      sendLateness: { off: latency(1.5, 0.5), on: latency(1.7, 0.5) },
      errors: { http_503: 2 },
      errorsByStage: { "warm-up": { http_503: 2 } },
      sent: 5100,
    };
    const m = canaryShadowMetrics(
      load,
      [
        side(0.5),
        side(0.8, { agree: 950, disagree: 40, error: 5, dropped: 5 }, 1990),
        side(0.7),
        side(0.9, { agree: 990, disagree: 0, error: 0, dropped: 0 }, 1000),
        side(0.6),
      ],
      versions,
    );
    expect(m.failed_requests).toBe(2);
    expect(m.challenger_share_percent).toBeCloseTo((100 * 505) / 5000, 9);
    expect(m.unexpected_version_answers).toBe(0);
    expect(m).toMatchObject({
      shadow_cycles: 2,
      p99_ms_shadow_off: 5,
      p99_ms_shadow_on: 5.5,
      p99_ms_first_phase: 4,
      p50_ms_shadow_off: 1,
      p50_ms_shadow_on: 1.2,
      shadow_mirrored: 1985,
      shadow_agree: 1940,
      shadow_disagree: 40,
      shadow_error: 5,
      shadow_dropped: 5,
      generator_cpu_cores: 0.3,
      generator_send_lateness_p99_ms_shadow_off: 1.5,
      generator_send_lateness_p99_ms_shadow_on: 1.7,
      requests_per_second: 1000,
    });
    expect(m.p99_shadow_ratio).toBeCloseTo(1.1, 9);
    // Each shadow phase over the mean of the off phases around it: 5 / 5 and 4.5 / 4.5.
    expect(m.p99_shadow_ratio_cycles_min).toBeCloseTo(1, 9);
    expect(m.p99_shadow_ratio_cycles_max).toBeCloseTo(1, 9);
    expect(m.p99_shadow_ratio_cycles_median).toBeCloseTo(1, 9);
    expect(m.server_cpu_cores_shadow_off).toBeCloseTo(0.6, 9);
    expect(m.server_cpu_cores_shadow_on).toBeCloseTo(0.85, 9);
    // Against the server's answers over the same scrapes, not the generator's windows.
    expect(m.shadow_mirrored_percent).toBeCloseTo((100 * 1985) / 2990, 9);
  });

  it("takes the median of the shadow phases' ratios", () => {
    const p99s = [2, 3, 2, 4, 2, 2.2, 2];
    const load: PhasedLoadResult = {
      phases: p99s.map((p99, i) => phase(i % 2 === 1 ? "on" : "off", { "1": 9, "2": 1 }, p99)),
      groups: { off: latency(2), on: latency(3) },
      sendLateness: {},
      errors: {},
      errorsByStage: {},
      sent: 70,
    };
    const m = canaryShadowMetrics(
      load,
      p99s.map(() => side(0.1)),
      versions,
    );
    expect(m.shadow_cycles).toBe(3);
    expect(m.p99_shadow_ratio_cycles_median).toBeCloseTo(1.5, 9);
    expect(m.p99_shadow_ratio_cycles_min).toBeCloseTo(1.1, 9);
    expect(m.p99_shadow_ratio_cycles_max).toBeCloseTo(2, 9);
  });

  it("counts answers of any other version, the shadow's included, as unexpected", () => {
    const load: PhasedLoadResult = {
      phases: [
        phase("off", { "1": 9, "2": 1 }, 1),
        phase("on", { "1": 8, "2": 1, "3": 1 }, 1),
        phase("off", { "7": 2 }, 1),
      ],
      groups: { off: latency(1), on: latency(1) },
      sendLateness: {},
      errors: {},
      errorsByStage: {},
      sent: 22,
    };
    const m = canaryShadowMetrics(load, [side(undefined), side(undefined), side(undefined)], versions);
    expect(m.unexpected_version_answers).toBe(3);
    expect(m.challenger_share_percent).toBeCloseTo((100 * 2) / 22, 9);
    // Without /proc the CPU is left out rather than reported as 0.
    expect(m).not.toHaveProperty("server_cpu_cores_shadow_off");
    expect(m).not.toHaveProperty("server_cpu_cores_shadow_on");
  });

  it("refuses results without alternating phases, shadow off first and last", () => {
    const load: PhasedLoadResult = {
      phases: [phase("off", {}, 1)],
      groups: {},
      sendLateness: {},
      errors: {},
      errorsByStage: {},
      sent: 0,
    };
    expect(() => canaryShadowMetrics(load, [side(0)], versions)).toThrow("alternating phases");
    const two = { ...load, phases: [phase("off", {}, 1), phase("on", {}, 1)] };
    expect(() => canaryShadowMetrics(two, [side(0), side(0)], versions)).toThrow("alternating phases");
  });
});

/** /metrics text with `byVersion` answers per version and `mirrors` shadow outcomes (agree, dropped). */
function metrics(
  byVersion: Record<string, number>,
  mirrors: { agree: number; dropped: number } = { agree: 0, dropped: 0 },
) {
  return [
    ...Object.entries(byVersion).map(
      ([v, n]) => `prediction_latency_seconds_count{model="iris-classifier",version="${v}"} ${n}`,
    ),
    `shadow_requests_total{model="iris-classifier",alias="shadow",outcome="agree"} ${mirrors.agree}`,
    `shadow_requests_total{model="iris-classifier",alias="shadow",outcome="dropped"} ${mirrors.dropped}`,
    // Another alias's mirrors are not the shadow's.
    `shadow_requests_total{model="iris-classifier",alias="other",outcome="agree"} ${mirrors.agree * 3}`,
  ].join("\n");
}

describe("the waits for a registry change to apply", () => {
  it("sees the split in force once the challenger gets at least 7% of an interval's answers", () => {
    const before = metrics({ "1": 1000, "2": 100 });
    expect(splitInForce(before, metrics({ "1": 1180, "2": 120 }), "2")).toBe(true);
    // One process of two not routing yet: about half the share.
    expect(splitInForce(before, metrics({ "1": 1190, "2": 110 }), "2")).toBe(false);
    // Too few answers to tell.
    expect(splitInForce(before, metrics({ "1": 1050, "2": 110 }), "2")).toBe(false);
  });

  it("sees mirroring in force at 95% of the answers mirrored or dropped, and stopped at none", () => {
    const before = metrics({ "1": 1000 }, { agree: 500, dropped: 0 });
    expect(shadowInForce(before, metrics({ "1": 1200 }, { agree: 680, dropped: 10 }))).toBe(true);
    expect(shadowInForce(before, metrics({ "1": 1200 }, { agree: 600, dropped: 0 }))).toBe(false);
    expect(shadowStopped(before, metrics({ "1": 1200 }, { agree: 500, dropped: 0 }))).toBe(true);
    expect(shadowStopped(before, metrics({ "1": 1200 }, { agree: 501, dropped: 0 }))).toBe(false);
    expect(shadowStopped(before, metrics({ "1": 1010 }, { agree: 500, dropped: 0 }))).toBe(false);
  });
});
