import { commonErrors } from "../core/errors/common-errors.js";
import { validateBatchId } from "../core/validation/ids.js";
import { validateKey } from "../core/validation/keys.js";
import { validateStep, validateTimestamp } from "../core/validation/numbers.js";
import { validateTag } from "../core/validation/tags.js";
import { validateParamValue } from "../core/validation/values.js";
import type { Metric, Param, Tag } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import type { LogBatchInput } from "./tracking-store.js";

/** Most items of one LogBatch (MLflow's limits). */
const batchLimits = {
  metrics: 1000,
  params: 100,
  tags: 100,
} as const;

/** A metric point: key, timestamp and step. The value may be any double, NaN and ±Infinity included. */
export function validateMetric(metric: Metric, field: string): Metric {
  validateKey(metric.key, `${field}.key`);
  validateTimestamp(metric.timestamp, `${field}.timestamp`);
  validateStep(metric.step, `${field}.step`);
  return metric;
}

/** A param: key and value. */
function validateParam(param: Param, field: string): Param {
  validateKey(param.key, `${field}.key`);
  validateParamValue(param.value, `${field}.value`);
  return param;
}

/**
 * A LogBatch: counts (1000 metrics, 100 params, 100 tags), every item, and the batch id. Params
 * repeated with the same value are kept once; with different values the batch is rejected
 * (params are immutable). A tag repeated keeps its last value, as if set in order. Throws
 * INVALID_ARGUMENT naming the offending field (`metrics[3].key`).
 */
export function validateLogBatch(batch: {
  readonly metrics: readonly Metric[];
  readonly params: readonly Param[];
  readonly tags: readonly Tag[];
  readonly batchId: string;
}): LogBatchInput {
  for (const list of ["metrics", "params", "tags"] as const) {
    const count = batch[list].length;
    if (count > batchLimits[list]) {
      throw commonErrors.invalidArgument(list, `at most ${batchLimits[list]} per batch, got ${count}`);
    }
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
