/**
 * Where a progressive rollout stands, kept as the model tag `mlpipe.rollout_status`, written only
 * by the registry's rollout controller (actor `rollout-controller`) at the start, every step, hold,
 * rollback, promotion and abort. Each write is a MODEL_TAG_SET event, so ListRegistryEvents is the
 * rollout's history with the measured numbers; the latest value is what `mlpipe rollout status`
 * shows and what a restarted registry resumes from. The value is JSON (machine-written, read by
 * the CLI and console); a value that does not parse counts as no rollout.
 */

/** The model tag that holds a rollout's state. */
export const rolloutStatusTag = "mlpipe.rollout_status";

/** Where a rollout is: `running` until it succeeded (promoted), failed (rolled back) or was aborted. */
export type RolloutState = "running" | "succeeded" | "failed" | "aborted";

/** What the controller last did. */
export type RolloutDecisionKind = "start" | "hold" | "step" | "rollback" | "promote" | "abort";

/** What one of the two versions answered in the step a decision was taken on. */
export interface RolloutVersionNumbers {
  /** The version behind the alias, as a decimal string. */
  readonly version: string;
  readonly requests: number;
  readonly errors: number;
  /** errors / requests (0 without requests). */
  readonly errorRatio: number;
  /** p99 latency of its successful requests, ms; null without any. */
  readonly p99Ms: number | null;
  /** Inference replicas whose reports were merged into these numbers. */
  readonly replicas: number;
}

/** The value of {@link rolloutStatusTag}. */
export interface RolloutStatus {
  readonly state: RolloutState;
  /** The challenger's share of the traffic, whole percent. */
  readonly weight: number;
  /** When the current step began, ms since the epoch. */
  readonly stepStartedAt: number;
  readonly decision: RolloutDecisionKind;
  /** Why, in words with the numbers compared. */
  readonly reason: string;
  /** The `mlpipe.rollout` value this status belongs to (a new value starts a new rollout). */
  readonly spec: string;
  readonly champion?: RolloutVersionNumbers;
  readonly challenger?: RolloutVersionNumbers;
}

const states: readonly string[] = ["running", "succeeded", "failed", "aborted"];
const decisions: readonly string[] = ["start", "hold", "step", "rollback", "promote", "abort"];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/** A status tag's value, or undefined when it is not one. */
export function parseRolloutStatus(value: string | undefined): RolloutStatus | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  const { state, weight, stepStartedAt, decision, reason, spec } = parsed;
  if (typeof state !== "string" || !states.includes(state)) return undefined;
  if (typeof decision !== "string" || !decisions.includes(decision)) return undefined;
  if (typeof weight !== "number" || typeof stepStartedAt !== "number") return undefined;
  if (typeof reason !== "string" || typeof spec !== "string") return undefined;
  return parsed as unknown as RolloutStatus;
}

/** The tag value of a status. */
export function formatRolloutStatus(status: RolloutStatus): string {
  return JSON.stringify(status);
}
