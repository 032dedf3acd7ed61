/**
 * A progressive rollout of a registered model (issue 16), kept in the registry as the model tag
 * `mlpipe.rollout` so that it is validated, audited (MODEL_TAG_SET / _DELETED events with the
 * actor) and survives a registry restart. Its value is a comma-separated `key=value` list:
 *
 *   champion=champion,challenger=challenger,step=10,interval=60s,max_weight=100,
 *   min_requests=100,max_error_increase=0.01,max_p99_ratio=1.5
 *
 * `champion` and `challenger` (required) are distinct aliases of the model; the others have the
 * defaults shown. While the tag is set, the registry's rollout controller (registry/rollout/)
 * rewrites the traffic split every `interval`; deleting the tag aborts the rollout. The registry
 * refuses any other value; the CLI parses it here too.
 */
import { aliasProblem } from "./aliases.js";

/** The model tag that holds a running rollout's parameters. */
export const rolloutTag = "mlpipe.rollout";

/** What a rollout does, see the module comment. */
export interface RolloutSpec {
  /** The alias serving today; it moves to the challenger's version on promotion. */
  readonly champion: string;
  /** The alias of the version rolled out. */
  readonly challenger: string;
  /** Weight added per passed step, whole percent 1..100. */
  readonly step: number;
  /** Duration of a step, ms (100 ms to 7 days). */
  readonly intervalMs: number;
  /** Highest weight of the challenger before promotion, whole percent 1..100. */
  readonly maxWeight: number;
  /** Requests each of the two versions must answer in a step for a decision; fewer: hold. */
  readonly minRequests: number;
  /** Largest error ratio of the challenger over the champion's, absolute (0.01 = one point). */
  readonly maxErrorIncrease: number;
  /** Largest ratio of the challenger's p99 latency to the champion's. */
  readonly maxP99Ratio: number;
}

/** A rollout value's parameters, or why it is not one. */
export type RolloutSpecParse =
  | { readonly ok: true; readonly spec: RolloutSpec }
  | { readonly ok: false; readonly problem: string };

/** Shortest step (a decision needs requests to count). */
const minIntervalMs = 100;
/** Longest step. */
const maxIntervalMs = 7 * 24 * 3600 * 1000;

const durationUnits: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration such as `300ms`, `60s`, `5m`, `1h`, in ms; undefined when it is not one. */
export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d{1,9})(ms|s|m|h)$/.exec(text);
  if (match === null) return undefined;
  const [, digits = "", unit = ""] = match;
  return Number(digits) * (durationUnits[unit] ?? Number.NaN);
}

/** Formats ms as the shortest exact duration of {@link parseDurationMs}. */
export function formatDurationMs(ms: number): string {
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const keys = [
  "champion",
  "challenger",
  "step",
  "interval",
  "max_weight",
  "min_requests",
  "max_error_increase",
  "max_p99_ratio",
] as const;

/** Parses a `mlpipe.rollout` value (see the module comment). */
export function parseRolloutSpec(value: string): RolloutSpecParse {
  const fail = (problem: string): RolloutSpecParse => ({ ok: false, problem });
  const given = new Map<string, string>();
  for (const entry of value.split(",").map((e) => e.trim())) {
    const match = /^([a-z0-9_]+)\s*=\s*(\S+)$/.exec(entry);
    if (match === null) return fail(`"${entry.slice(0, 100)}" is not key=value (e.g. champion=champion)`);
    const [, key = "", v = ""] = match;
    if (!(keys as readonly string[]).includes(key)) return fail(`unknown key "${key}" (known: ${keys.join(", ")})`);
    if (given.has(key)) return fail(`"${key}" is given twice`);
    given.set(key, v);
  }
  const champion = given.get("champion");
  const challenger = given.get("challenger");
  if (champion === undefined) return fail("champion (an alias) is required");
  if (challenger === undefined) return fail("challenger (an alias) is required");
  for (const [key, alias] of [
    ["champion", champion],
    ["challenger", challenger],
  ] as const) {
    const problem = aliasProblem(alias);
    if (problem !== undefined) return fail(`${key} alias ${problem}`);
  }
  if (champion === challenger) return fail("champion and challenger must be different aliases");

  // The first problem found wins; the numbers read after it are not used.
  const problems: string[] = [];
  const number = (key: string, fallback: number, min: number, max: number, integer: boolean): number => {
    const text = given.get(key);
    if (text === undefined) return fallback;
    const n = (integer ? /^\d{1,10}$/ : /^\d{1,10}(\.\d{1,10})?$/).test(text) ? Number(text) : Number.NaN;
    if (n >= min && n <= max) return n;
    problems.push(`${key} must be a ${integer ? "whole number" : "number"} from ${min} to ${max}`);
    return fallback;
  };
  const step = number("step", 10, 1, 100, true);
  const maxWeight = number("max_weight", 100, 1, 100, true);
  const minRequests = number("min_requests", 100, 1, 1_000_000_000, true);
  const maxErrorIncrease = number("max_error_increase", 0.01, 0, 1, false);
  const maxP99Ratio = number("max_p99_ratio", 1.5, 1, 1000, false);
  const intervalMs = parseDurationMs(given.get("interval") ?? "60s");
  if (problems[0] !== undefined) return fail(problems[0]);
  if (intervalMs === undefined || intervalMs < minIntervalMs || intervalMs > maxIntervalMs) {
    return fail(`interval must be a duration from ${minIntervalMs}ms to 7 days, e.g. 300ms, 60s, 5m, 1h`);
  }
  return {
    ok: true,
    spec: { champion, challenger, step, intervalMs, maxWeight, minRequests, maxErrorIncrease, maxP99Ratio },
  };
}

/** A decimal as the parser reads it: never in exponent notation (1e-7 is 0.0000001). */
function decimalText(value: number): string {
  const text = String(value);
  return text.includes("e") ? value.toFixed(10).replace(/\.?0+$/, "") : text;
}

/** The `mlpipe.rollout` value of a spec, every key written (what the CLI sets). */
export function formatRolloutSpec(spec: RolloutSpec): string {
  return [
    `champion=${spec.champion}`,
    `challenger=${spec.challenger}`,
    `step=${spec.step}`,
    `interval=${formatDurationMs(spec.intervalMs)}`,
    `max_weight=${spec.maxWeight}`,
    `min_requests=${spec.minRequests}`,
    `max_error_increase=${decimalText(spec.maxErrorIncrease)}`,
    `max_p99_ratio=${decimalText(spec.maxP99Ratio)}`,
  ].join(",");
}
