import { describe, expect, it } from "vitest";
import type { RolloutSpec } from "../../core/validation/rollout-spec.js";
import type { RolloutVersionNumbers } from "../../core/validation/rollout-status.js";
import { decideStep, firstWeight } from "./rollout-decision.js";

const spec: RolloutSpec = {
  champion: "champion",
  challenger: "challenger",
  step: 20,
  intervalMs: 60_000,
  maxWeight: 100,
  minRequests: 10,
  maxErrorIncrease: 0.01,
  maxP99Ratio: 1.5,
};

const numbers = (requests: number, errors: number, p99Ms: number | null): RolloutVersionNumbers => ({
  version: "1",
  requests,
  errors,
  errorRatio: requests === 0 ? 0 : errors / requests,
  p99Ms,
  replicas: 1,
});
const healthy = numbers(100, 0, 10);

describe("decideStep", () => {
  it("walks the weights up by step and promotes once the next step would leave the champion nothing", () => {
    const weights: number[] = [firstWeight(spec)];
    for (;;) {
      const d = decideStep(spec, weights[weights.length - 1] ?? 0, healthy, healthy);
      if (d.kind !== "step") {
        expect(d.kind).toBe("promote");
        break;
      }
      weights.push(d.weight);
    }
    expect(weights).toEqual([20, 40, 60, 80]);
  });

  it("stops at max_weight and promotes after passing there", () => {
    const capped = { ...spec, step: 20, maxWeight: 50 };
    expect(firstWeight(capped)).toBe(20);
    expect(decideStep(capped, 40, healthy, healthy)).toMatchObject({ kind: "step", weight: 50 });
    expect(decideStep(capped, 50, healthy, healthy)).toMatchObject({ kind: "promote" });
    // A step of 100 still leaves the champion 1% to be compared with.
    expect(firstWeight({ ...spec, step: 100 })).toBe(99);
  });

  it("holds when either version answered fewer than min_requests", () => {
    expect(decideStep(spec, 20, numbers(9, 0, 1), healthy).kind).toBe("hold");
    expect(decideStep(spec, 20, healthy, numbers(9, 9, null)).kind).toBe("hold");
  });

  it("allows an error ratio up to max_error_increase over the champion's and a p99 up to max_p99_ratio times it", () => {
    expect(decideStep(spec, 20, numbers(100, 2, 10), numbers(100, 3, 15)).kind).toBe("step");
    expect(decideStep(spec, 20, numbers(100, 2, 10), numbers(100, 4, 10)).kind).toBe("rollback");
    expect(decideStep(spec, 20, numbers(100, 0, 10), numbers(100, 0, 15.1)).kind).toBe("rollback");
    // No successful request at all: only the error ratio can judge it.
    expect(decideStep(spec, 20, numbers(100, 100, null), numbers(100, 100, null)).kind).toBe("step");
  });
});
