import { describe, expect, it } from "vitest";
import type { LatencySummary } from "../lib/latency.js";
import type { PhasedLoadResult, PhaseResult, PhaseTargetResult } from "../lib/phased-open-loop.js";
import {
  type CanaryVersions,
  canaryShadowMetrics,
  mirroringTwin,
  modelOf,
  type PhaseServerSide,
  shadowInForce,
  shadowStopped,
  splitInForce,
  twinGroups,
  twins,
} from "./canary-shadow.js";

const versions: CanaryVersions = { champion: "1", challenger: "2", shadow: "3" };

function latency(p99: number, p50 = p99 / 4): LatencySummary {
  return { count: 1, p50, p90: p99, p95: p99, p99, p999: p99, max: p99, mean: p50 };
}

/** One twin's answers in one phase. */
function target(answers: Record<string, number>, p99: number): PhaseTargetResult {
  return {
    ok: Object.values(answers).reduce((a, b) => a + b, 0),
    latencyMs: latency(p99),
    versions: answers,
    errors: {},
  };
}

/** A phase with twin a's and b's answers (their p99s) and both twins' p99 together. */
function phase(
  name: string,
  twinA: [Record<string, number>, number],
  twinB: [Record<string, number>, number],
  generatorCpuCores = 0.2,
): PhaseResult {
  const targets = [target(...twinA), target(...twinB)];
  const versions: Record<string, number> = {};
  for (const t of targets) for (const [v, n] of Object.entries(t.versions)) versions[v] = (versions[v] ?? 0) + n;
  const ok = targets.reduce((n, t) => n + t.ok, 0);
  return {
    name,
    versions,
    targets,
    beforeSeconds: 1,
    inFlightAtOpen: 0,
    load: {
      mode: "open",
      concurrency: undefined,
      targetRate: 1000,
      seconds: 1,
      throughput: ok,
      ok,
      latencyMs: latency(Math.max(twinA[1], twinB[1])),
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

const none = { agree: 0, disagree: 0, error: 0, dropped: 0 };

/** The groups the scenario books: both sides and each twin's. */
function groups(on: number, off: number, aOn = on, aOff = off, bOn = on, bOff = off): Record<string, LatencySummary> {
  return {
    on: latency(on, 1.2),
    off: latency(off, 1),
    "a on": latency(aOn),
    "a off": latency(aOff),
    "b on": latency(bOn),
    "b off": latency(bOff),
  };
}

describe("the twins' phases", () => {
  it("has twin a mirror in even phases and b in odd ones, each side booked as on or off and by twin", () => {
    expect([0, 1, 2, 3].map(mirroringTwin)).toEqual(["a", "b", "a", "b"]);
    expect(twinGroups(0)).toEqual([
      ["on", "a on"],
      ["off", "b off"],
    ]);
    expect(twinGroups(1)).toEqual([
      ["off", "a off"],
      ["on", "b on"],
    ]);
    expect(twins.map(modelOf)).toEqual(["iris-classifier-a", "iris-classifier-b"]);
  });
});

describe("canaryShadowMetrics", () => {
  it("compares the twin mirroring with the twin not, in each phase and over the run, and counts the mirrors", () => {
    const load: PhasedLoadResult = {
      phases: [
        // a mirrors: a's p99 5 against b's 4.
        phase("a mirroring (1)", [{ "1": 450, "2": 50 }, 5], [{ "1": 440, "2": 60 }, 4], 0.3),
        // b mirrors: b's p99 4.5 against a's 5.
        phase("b mirroring (1)", [{ "1": 455, "2": 45 }, 5], [{ "1": 450, "2": 50 }, 4.5]),
      ],
      groups: groups(5.5, 5, 6, 4, 4.4, 5.5),
      sendLateness: { off: latency(1.5, 0.5), on: latency(1.7, 0.5) },
      errors: { http_503: 2 },
      errorsByStage: { "warm-up": { http_503: 2 } },
      sent: 2100,
    };
    const m = canaryShadowMetrics(
      load,
      [
        { a: side(0.3, { agree: 480, disagree: 10, error: 5, dropped: 5 }, 990), b: side(0.2, none, 1000) },
        { a: side(0.25, none, 1000), b: side(0.35, { agree: 500, disagree: 0, error: 0, dropped: 0 }, 500) },
      ],
      versions,
    );
    expect(m.failed_requests).toBe(2);
    expect(m.challenger_share_percent).toBeCloseTo((100 * 205) / 2000, 9);
    expect(m.unexpected_version_answers).toBe(0);
    expect(m).toMatchObject({
      shadow_phases: 2,
      p99_ms_shadow_off: 5,
      p99_ms_shadow_on: 5.5,
      p99_ms_first_phase: 5,
      p50_ms_shadow_off: 1,
      p50_ms_shadow_on: 1.2,
      shadow_mirrored: 995,
      shadow_agree: 980,
      shadow_disagree: 10,
      shadow_error: 5,
      shadow_dropped: 5,
      shadow_mirrored_while_off: 0,
      generator_cpu_cores: 0.3,
      generator_send_lateness_p99_ms_shadow_off: 1.5,
      generator_send_lateness_p99_ms_shadow_on: 1.7,
      requests_per_second: 1000,
    });
    expect(m.p99_shadow_ratio).toBeCloseTo(1.1, 9);
    // Each phase's twin mirroring over its twin not: 5 / 4 and 4.5 / 5.
    expect(m.p99_shadow_ratio_phases_max).toBeCloseTo(1.25, 9);
    expect(m.p99_shadow_ratio_phases_min).toBeCloseTo(0.9, 9);
    expect(m.p99_shadow_ratio_phases_median).toBeCloseTo((1.25 + 0.9) / 2, 9);
    // Each twin in time: a 6 / 4, b 4.4 / 5.5.
    expect(m.p99_shadow_ratio_in_time_a).toBeCloseTo(1.5, 9);
    expect(m.p99_shadow_ratio_in_time_b).toBeCloseTo(0.8, 9);
    // The twins not mirroring (b then a), the twins mirroring (a then b).
    expect(m.server_cpu_cores_shadow_off).toBeCloseTo(0.225, 9);
    expect(m.server_cpu_cores_shadow_on).toBeCloseTo(0.325, 9);
    // Against the mirroring servers' answers over the same scrapes, not the generator's windows.
    expect(m.shadow_mirrored_percent).toBeCloseTo((100 * 995) / 1490, 9);
  });

  it("counts mirrors of the twin that was not mirroring, and answers of any other version, as faults", () => {
    const load: PhasedLoadResult = {
      phases: [
        phase("a mirroring (1)", [{ "1": 8, "2": 1, "3": 1 }, 1], [{ "1": 9, "2": 1 }, 1]),
        phase("b mirroring (1)", [{ "7": 2 }, 1], [{ "1": 9, "2": 1 }, 1]),
      ],
      groups: groups(1, 1),
      sendLateness: {},
      errors: {},
      errorsByStage: {},
      sent: 32,
    };
    const m = canaryShadowMetrics(
      load,
      [
        { a: side(undefined), b: side(undefined, { agree: 3, disagree: 0, error: 0, dropped: 1 }) },
        { a: side(undefined, { agree: 0, disagree: 2, error: 0, dropped: 0 }), b: side(undefined) },
      ],
      versions,
    );
    expect(m.unexpected_version_answers).toBe(3);
    expect(m.challenger_share_percent).toBeCloseTo((100 * 3) / 32, 9);
    expect(m.shadow_mirrored_while_off).toBe(6);
    // Without /proc the CPU is left out rather than reported as 0.
    expect(m).not.toHaveProperty("server_cpu_cores_shadow_off");
    expect(m).not.toHaveProperty("server_cpu_cores_shadow_on");
  });

  it("refuses results without phases in pairs or without a side per phase", () => {
    const one = phase("a mirroring (1)", [{}, 1], [{}, 1]);
    const load: PhasedLoadResult = {
      phases: [one],
      groups: groups(1, 1),
      sendLateness: {},
      errors: {},
      errorsByStage: {},
      sent: 0,
    };
    const sides = { a: side(0), b: side(0) };
    expect(() => canaryShadowMetrics(load, [sides], versions)).toThrow("phases in pairs");
    const two = { ...load, phases: [one, one] };
    expect(() => canaryShadowMetrics(two, [sides], versions)).toThrow("phases in pairs");
    expect(() => canaryShadowMetrics({ ...two, groups: {} }, [sides, sides], versions)).toThrow('no "on" group');
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
