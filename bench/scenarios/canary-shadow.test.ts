import { describe, expect, it } from "vitest";
import type { LatencySummary } from "../lib/latency.js";
import type { PhasedLoadResult, PhaseResult } from "../lib/phased-open-loop.js";
import { type CanaryVersions, canaryShadowMetrics, type PhaseServerSide } from "./canary-shadow.js";

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
  return { cpuCores, view: undefined, answered, shadow };
}

describe("canaryShadowMetrics", () => {
  it("measures the split over the three phases, the p99 ratio against both off phases, and the mirrors", () => {
    const load: PhasedLoadResult = {
      phases: [
        phase("off", { "1": 900, "2": 100 }, 4),
        phase("on", { "1": 890, "2": 110 }, 5, 0.3),
        phase("off again", { "1": 905, "2": 95 }, 6),
      ],
      groups: { off: latency(5, 1), on: latency(5.5, 1.2) },
      errors: { http_503: 2 },
      errorsByStage: { "warm-up": { http_503: 2 } },
      sent: 3100,
    };
    const m = canaryShadowMetrics(
      load,
      [side(0.5), side(0.8, { agree: 950, disagree: 40, error: 5, dropped: 5 }, 1990), side(0.7)],
      versions,
    );
    expect(m.failed_requests).toBe(2);
    expect(m.challenger_share_percent).toBeCloseTo((100 * 305) / 3000, 9);
    expect(m.unexpected_version_answers).toBe(0);
    expect(m).toMatchObject({
      p99_ms_shadow_off: 5,
      p99_ms_shadow_off_before: 4,
      p99_ms_shadow_off_after: 6,
      p99_ms_shadow_on: 5.5,
      p50_ms_shadow_off: 1,
      p50_ms_shadow_on: 1.2,
      shadow_mirrored: 995,
      shadow_agree: 950,
      shadow_disagree: 40,
      shadow_error: 5,
      shadow_dropped: 5,
      generator_cpu_cores: 0.3,
      server_cpu_cores_shadow_on: 0.8,
      requests_per_second: 1000,
    });
    expect(m.p99_shadow_ratio).toBeCloseTo(1.1, 9);
    expect(m.server_cpu_cores_shadow_off).toBeCloseTo(0.6, 9);
    // Against the server's answers over the same scrapes, not the generator's window.
    expect(m.shadow_mirrored_percent).toBeCloseTo(50, 9);
  });

  it("counts answers of any other version, the shadow's included, as unexpected", () => {
    const load: PhasedLoadResult = {
      phases: [
        phase("off", { "1": 9, "2": 1 }, 1),
        phase("on", { "1": 8, "2": 1, "3": 1 }, 1),
        phase("off", { "7": 2 }, 1),
      ],
      groups: { off: latency(1), on: latency(1) },
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

  it("refuses results without the three phases", () => {
    const load: PhasedLoadResult = {
      phases: [phase("off", {}, 1)],
      groups: {},
      errors: {},
      errorsByStage: {},
      sent: 0,
    };
    expect(() => canaryShadowMetrics(load, [side(0)], versions)).toThrow("three phases");
  });
});
