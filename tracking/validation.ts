import type { DescEnum } from "@bufbuild/protobuf";
import { commonErrors } from "../core/errors/common-errors.js";
import type { Metric, Param, Tag } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import type { LogBatchInput } from "./tracking-store.js";

/**
 * Input rules of the tracking service: MLflow's (names, keys, value lengths, batch sizes) plus
 * mlpipe's own limits (ids, page sizes, int64 within JavaScript's safe range). Every function throws
 * INVALID_ARGUMENT naming the offending request field (proto field names, e.g. "metrics[3].key")
 * and returns the value, normalised where it says so.
 *
 * Lengths count Unicode code points, as MLflow (Python) does.
 */
export const trackingLimits = {
  /** Experiment names: 1 to 500 characters. */
  experimentNameLength: 500,
  /** Run names: at most 250 characters. */
  runNameLength: 250,
  /** Metric, param and tag keys: 1 to 250 characters. */
  keyLength: 250,
  /** Param values: at most 6000 characters. */
  paramValueLength: 6000,
  /** Tag values (runs and experiments): at most 8000 characters. */
  tagValueLength: 8000,
  /** Metrics per LogBatch. */
  batchMetrics: 1000,
  /** Params per LogBatch. */
  batchParams: 100,
  /** Tags per LogBatch. */
  batchTags: 100,
  /** LogBatch batch_id: 1 to 128 characters of `[A-Za-z0-9_.:-]`. */
  batchIdLength: 128,
  /** order_by clauses of SearchRuns. */
  runOrderByClauses: 3,
} as const;

/** A page size rule: `max_results` of 0 means the default; above the maximum is rejected. */
export interface PageSizeRule {
  readonly default: number;
  readonly max: number;
}

/** Page sizes of the searches, as documented in tracking.proto. */
export const pageSizes = {
  searchExperiments: { default: 100, max: 1000 },
  searchRuns: { default: 1000, max: 50_000 },
  metricHistory: { default: 25_000, max: 50_000 },
} as const satisfies Record<string, PageSizeRule>;

/**
 * Keys: MLflow's `^[\w\-. /:]+$` with Python's Unicode `\w` (letters, digits, underscore), plus
 * dash, dot, space, slash and colon.
 */
const keyPattern = /^[\p{L}\p{N}_\-. /:]+$/u;
const runIdPattern = /^[0-9a-f]{32}$/;
/** Decimal, no sign, no leading zero (ids are BIGINT identities, "0" is the Default experiment). */
const experimentIdPattern = /^(0|[1-9][0-9]{0,18})$/;
const batchIdPattern = /^[A-Za-z0-9_.:-]+$/;
const sha256Pattern = /^[0-9a-f]{64}$/;
const maxInt64 = 2n ** 63n - 1n;
const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);

/** Length in code points, counted only when the UTF-16 length could exceed `limit`. */
function exceeds(value: string, limit: number): boolean {
  if (value.length <= limit) return false;
  let n = 0;
  for (const _ of value) if (++n > limit) return true;
  return false;
}

/**
 * Checks free text: at most `max` characters, at least `min`, and no NUL (PostgreSQL text cannot
 * store it, so it would fail as an internal error later).
 */
export function validateText(value: string, field: string, min: number, max: number): string {
  if (value.length < min)
    throw commonErrors.invalidArgument(field, min === 1 ? "must not be empty" : `must be at least ${min} characters`);
  if (exceeds(value, max)) throw commonErrors.invalidArgument(field, `must be at most ${max} characters`);
  if (value.includes("\u0000")) throw commonErrors.invalidArgument(field, "must not contain NUL characters");
  return value;
}

/** Experiment names: 1 to 500 characters. */
export function validateExperimentName(name: string, field = "name"): string {
  return validateText(name, field, 1, trackingLimits.experimentNameLength);
}

/** Run names: at most 250 characters ("" is allowed where the caller gives it a meaning). */
export function validateRunName(name: string, field = "run_name"): string {
  return validateText(name, field, 0, trackingLimits.runNameLength);
}

/**
 * Metric, param and tag keys: 1 to 250 characters of letters, digits, `_ - . / :` and space, and
 * a clean path (MLflow stores keys as file paths): no leading `/`, no empty, `.` or `..` segment.
 */
export function validateKey(key: string, field: string): string {
  validateText(key, field, 1, trackingLimits.keyLength);
  if (!keyPattern.test(key)) {
    throw commonErrors.invalidArgument(
      field,
      `"${key}" may only contain letters, digits, underscores, dashes, periods, spaces, slashes and colons`,
    );
  }
  if (key.startsWith("/")) throw commonErrors.invalidArgument(field, `"${key}" must not start with "/"`);
  for (const segment of key.split("/")) {
    if (segment === "" || segment === "." || segment === "..") {
      throw commonErrors.invalidArgument(field, `"${key}" must be a clean path: no empty, "." or ".." segment`);
    }
  }
  return key;
}

/** Param values: at most 6000 characters. */
export function validateParamValue(value: string, field: string): string {
  return validateText(value, field, 0, trackingLimits.paramValueLength);
}

/** Tag values: at most 8000 characters. */
export function validateTagValue(value: string, field: string): string {
  return validateText(value, field, 0, trackingLimits.tagValueLength);
}

/** Run ids: 32 lower-case hex digits (a UUID without dashes, as MLflow makes them). */
export function validateRunId(runId: string, field = "run_id"): string {
  if (runId === "") throw commonErrors.invalidArgument(field, "is required");
  if (!runIdPattern.test(runId)) throw commonErrors.invalidArgument(field, "must be 32 lower-case hex digits");
  return runId;
}

/** Experiment ids: decimal strings without sign or leading zeros, within int64. */
export function validateExperimentId(experimentId: string, field = "experiment_id"): string {
  if (experimentId === "") throw commonErrors.invalidArgument(field, "is required");
  if (!experimentIdPattern.test(experimentId) || BigInt(experimentId) > maxInt64) {
    throw commonErrors.invalidArgument(field, 'must be a decimal experiment id such as "0" or "42"');
  }
  return experimentId;
}

/** Timestamps in milliseconds since the epoch: 0 to 2^53-1. Returned as a number. */
export function validateTimestamp(value: bigint, field: string): number {
  if (value < 0n || value > maxSafe) {
    throw commonErrors.invalidArgument(field, `must be milliseconds since the epoch, 0 to ${Number.MAX_SAFE_INTEGER}`);
  }
  return Number(value);
}

/** Metric steps: any integer within ±(2^53-1) (MLflow allows negative steps). */
export function validateStep(value: bigint, field: string): bigint {
  if (value < -maxSafe || value > maxSafe) {
    throw commonErrors.invalidArgument(
      field,
      `must be between ${-Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`,
    );
  }
  return value;
}

/** A metric point: key, timestamp and step. The value may be any double, NaN and ±Infinity included. */
export function validateMetric(metric: Metric, field: string): Metric {
  validateKey(metric.key, `${field}.key`);
  validateTimestamp(metric.timestamp, `${field}.timestamp`);
  validateStep(metric.step, `${field}.step`);
  return metric;
}

/** A param: key and value. */
export function validateParam(param: Param, field: string): Param {
  validateKey(param.key, `${field}.key`);
  validateParamValue(param.value, `${field}.value`);
  return param;
}

/** A tag: key and value. */
export function validateTag(tag: { readonly key: string; readonly value: string }, field: string): void {
  validateKey(tag.key, `${field}.key`);
  validateTagValue(tag.value, `${field}.value`);
}

/** A map of tags (experiment tags): each key and value, the field named `<field>[<key>]`. */
export function validateTagMap(tags: Readonly<Record<string, string>>, field: string): Record<string, string> {
  for (const [key, value] of Object.entries(tags)) validateTag({ key, value }, `${field}["${key}"]`);
  return { ...tags };
}

/** LogBatch ids: "" (none) or 1 to 128 characters of letters, digits and `_ . : -`. */
export function validateBatchId(batchId: string, field = "batch_id"): string {
  if (batchId === "") return batchId;
  if (batchId.length > trackingLimits.batchIdLength) {
    throw commonErrors.invalidArgument(field, `must be at most ${trackingLimits.batchIdLength} characters`);
  }
  if (!batchIdPattern.test(batchId)) {
    throw commonErrors.invalidArgument(field, "may only contain letters, digits and `_ . : -`");
  }
  return batchId;
}

/**
 * A LogBatch: counts (1000 metrics, 100 params, 100 tags), every item, and the batch id. Params
 * repeated with the same value are kept once; with different values the batch is rejected
 * (params are immutable). A tag repeated keeps its last value, as if set in order.
 */
export function validateLogBatch(batch: {
  readonly metrics: readonly Metric[];
  readonly params: readonly Param[];
  readonly tags: readonly Tag[];
  readonly batchId: string;
}): LogBatchInput {
  const { batchMetrics, batchParams, batchTags } = trackingLimits;
  if (batch.metrics.length > batchMetrics) {
    throw commonErrors.invalidArgument("metrics", `at most ${batchMetrics} per batch, got ${batch.metrics.length}`);
  }
  if (batch.params.length > batchParams) {
    throw commonErrors.invalidArgument("params", `at most ${batchParams} per batch, got ${batch.params.length}`);
  }
  if (batch.tags.length > batchTags) {
    throw commonErrors.invalidArgument("tags", `at most ${batchTags} per batch, got ${batch.tags.length}`);
  }
  for (const [i, m] of batch.metrics.entries()) validateMetric(m, `metrics[${i}]`);

  const params = new Map<string, { param: Param; index: number }>();
  batch.params.forEach((p, i) => {
    validateParam(p, `params[${i}]`);
    const seen = params.get(p.key);
    if (seen === undefined) params.set(p.key, { param: p, index: i });
    else if (seen.param.value !== p.value) {
      throw commonErrors.invalidArgument(
        `params[${i}].key`,
        `"${p.key}" is repeated with a different value than params[${seen.index}]; params cannot change`,
      );
    }
  });

  const tags = new Map<string, Tag>();
  batch.tags.forEach((t, i) => {
    validateTag(t, `tags[${i}]`);
    // Delete first so the map's order is that of the last occurrence.
    tags.delete(t.key);
    tags.set(t.key, t);
  });

  return {
    metrics: batch.metrics,
    params: [...params.values()].map((p) => p.param),
    tags: [...tags.values()],
    batchId: validateBatchId(batch.batchId),
  };
}

/** `max_results`: 0 gives the default; negative or above the maximum is rejected. */
export function validatePageSize(value: number, rule: PageSizeRule, field = "max_results"): number {
  if (value === 0) return rule.default;
  if (!Number.isInteger(value) || value < 0 || value > rule.max) {
    throw commonErrors.invalidArgument(field, `must be between 1 and ${rule.max} (0 for the default ${rule.default})`);
  }
  return value;
}

/** An enum value the contract defines (proto3 enums are open: the wire may carry any number). */
export function validateEnum<T extends number>(value: T, desc: DescEnum, field: string): T {
  if (desc.values.some((v) => v.number === value)) return value;
  throw commonErrors.invalidArgument(field, `${value} is not a value of ${desc.typeName}`);
}

/** Lower-case hex SHA-256, or "" for none. */
export function validateSha256(value: string, field: string): string {
  if (value !== "" && !sha256Pattern.test(value))
    throw commonErrors.invalidArgument(field, "must be 64 lower-case hex digits");
  return value;
}

/** Free-form query text (filter, order_by clauses, page tokens): no NUL; the store parses the rest. */
export function validateQueryText(value: string, field: string): string {
  if (value.includes("\u0000")) throw commonErrors.invalidArgument(field, "must not contain NUL characters");
  return value;
}

/** order_by clauses: at most `max`, each free of NUL (the store parses them). */
export function validateOrderBy(clauses: readonly string[], max: number | undefined, field = "order_by"): string[] {
  if (max !== undefined && clauses.length > max) {
    throw commonErrors.invalidArgument(field, `at most ${max} clauses, got ${clauses.length}`);
  }
  return clauses.map((c, i) => validateQueryText(c, `${field}[${i}]`));
}
