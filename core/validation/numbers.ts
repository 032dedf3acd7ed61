import { commonErrors } from "../errors/common-errors.js";

const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);

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

/** A page size rule: `max_results` of 0 means the default; above the maximum is rejected. */
export interface PageSizeRule {
  readonly default: number;
  readonly max: number;
}

/** `max_results`: 0 gives the default; negative, fractional or above the maximum is rejected. */
export function validatePageSize(value: number, rule: PageSizeRule, field = "max_results"): number {
  if (value === 0) return rule.default;
  if (!Number.isInteger(value) || value < 0 || value > rule.max) {
    throw commonErrors.invalidArgument(field, `must be between 1 and ${rule.max} (0 for the default ${rule.default})`);
  }
  return value;
}
