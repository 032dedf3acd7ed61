/**
 * The decision at the end of a rollout step (Flagger's canary analysis, per model version): hold
 * when either version answered too few requests, roll back when the challenger's error ratio or
 * p99 is out of bounds compared with the champion's in the same step, else move the challenger's
 * weight up by a step, or promote it once it passed at its highest weight. Pure: the controller
 * (rollout-controller.ts) measures and applies.
 */
import type { RolloutSpec } from "../../core/validation/rollout-spec.js";
import type { RolloutVersionNumbers } from "../../core/validation/rollout-status.js";

/** Highest weight a challenger is given while it is compared: the champion keeps 1% at least. */
export const maxComparedWeight = 99;

/** What to do at the end of a step. */
export type StepDecision =
  | { readonly kind: "hold"; readonly reason: string }
  | { readonly kind: "step"; readonly weight: number; readonly reason: string }
  | { readonly kind: "rollback"; readonly reason: string }
  | { readonly kind: "promote"; readonly reason: string };

/** The challenger's weight in the first step. */
export function firstWeight(spec: RolloutSpec): number {
  return Math.min(spec.step, spec.maxWeight, maxComparedWeight);
}

const ms = (v: number): string => `${v.toFixed(2)} ms`;
const ratio = (v: number): string => v.toFixed(4);

/** Decides the end of a step run at `weight`, from what both versions answered during it. */
export function decideStep(
  spec: RolloutSpec,
  weight: number,
  champion: RolloutVersionNumbers,
  challenger: RolloutVersionNumbers,
): StepDecision {
  if (champion.requests < spec.minRequests || challenger.requests < spec.minRequests) {
    return {
      kind: "hold",
      reason:
        `too few requests for a decision at weight ${weight}: champion ${champion.requests}, ` +
        `challenger ${challenger.requests}, min_requests ${spec.minRequests}`,
    };
  }
  const increase = challenger.errorRatio - champion.errorRatio;
  if (increase > spec.maxErrorIncrease) {
    return {
      kind: "rollback",
      reason:
        `error ratio ${ratio(challenger.errorRatio)} of the challenger exceeds the champion's ` +
        `${ratio(champion.errorRatio)} by ${ratio(increase)}, more than max_error_increase ${spec.maxErrorIncrease}`,
    };
  }
  if (challenger.p99Ms !== null && champion.p99Ms !== null && champion.p99Ms > 0) {
    const p99Ratio = challenger.p99Ms / champion.p99Ms;
    if (p99Ratio > spec.maxP99Ratio) {
      return {
        kind: "rollback",
        reason:
          `p99 ${ms(challenger.p99Ms)} of the challenger is ${p99Ratio.toFixed(2)}x the champion's ` +
          `${ms(champion.p99Ms)}, more than max_p99_ratio ${spec.maxP99Ratio}`,
      };
    }
  }
  const within =
    `error ratio ${ratio(challenger.errorRatio)} vs ${ratio(champion.errorRatio)}, ` +
    `p99 ${challenger.p99Ms === null ? "-" : ms(challenger.p99Ms)} vs ${champion.p99Ms === null ? "-" : ms(champion.p99Ms)}`;
  const cap = Math.min(spec.maxWeight, maxComparedWeight);
  if (weight >= cap || weight + spec.step >= 100) {
    return { kind: "promote", reason: `passed at weight ${weight} (the last step): ${within}` };
  }
  const next = Math.min(weight + spec.step, cap);
  return { kind: "step", weight: next, reason: `passed at weight ${weight}, now ${next}: ${within}` };
}
