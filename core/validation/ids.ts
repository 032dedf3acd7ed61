import { commonErrors } from "../errors/common-errors.js";

const runIdPattern = /^[0-9a-f]{32}$/;
/** Decimal, no sign, no leading zero (ids are BIGINT identities, "0" is the Default experiment). */
const experimentIdPattern = /^(0|[1-9][0-9]{0,18})$/;
const batchIdPattern = /^[A-Za-z0-9_.:-]+$/;
const sha256Pattern = /^[0-9a-f]{64}$/;
const maxInt64 = 2n ** 63n - 1n;

/** Longest LogBatch batch_id, in characters. */
const maxBatchIdLength = 128;

/** Run ids: 32 lower-case hex digits (a UUID without dashes, as MLflow makes them and the tracking API issues). */
export function validateRunId(runId: string, field = "run_id"): string {
  if (runId === "") throw commonErrors.invalidArgument(field, "is required");
  if (!runIdPattern.test(runId)) throw commonErrors.invalidArgument(field, "must be 32 lower-case hex digits");
  return runId;
}

/**
 * Run ids as MLflow's `runs:/<run_id>/<path>` URIs accept them: a letter or digit, then up to 255
 * letters, digits, `_` or `-`. Looser than {@link validateRunId} on purpose: a registration source
 * naming a run this server does not have is a failed registration with its reason, as in MLflow,
 * not a malformed request.
 */
export function isRunIdInUri(text: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_-]{0,255}$/.test(text);
}

/** Experiment ids: decimal strings without sign or leading zeros, within int64. */
export function validateExperimentId(experimentId: string, field = "experiment_id"): string {
  if (experimentId === "") throw commonErrors.invalidArgument(field, "is required");
  if (!experimentIdPattern.test(experimentId) || BigInt(experimentId) > maxInt64) {
    throw commonErrors.invalidArgument(field, 'must be a decimal experiment id such as "0" or "42"');
  }
  return experimentId;
}

/** LogBatch ids: "" (none) or 1 to 128 characters of letters, digits and `_ . : -`. */
export function validateBatchId(batchId: string, field = "batch_id"): string {
  if (batchId === "") return batchId;
  if (batchId.length > maxBatchIdLength) {
    throw commonErrors.invalidArgument(field, `must be at most ${maxBatchIdLength} characters`);
  }
  if (!batchIdPattern.test(batchId)) {
    throw commonErrors.invalidArgument(field, "may only contain letters, digits and `_ . : -`");
  }
  return batchId;
}

/** Lower-case hex SHA-256, or "" for none. */
export function validateSha256(value: string, field: string): string {
  if (value !== "" && !sha256Pattern.test(value))
    throw commonErrors.invalidArgument(field, "must be 64 lower-case hex digits");
  return value;
}

/** A model version number: 1 or more. */
export function validateVersion(version: bigint, field = "version"): bigint {
  if (version < 1n) throw commonErrors.invalidArgument(field, "must be a version number (1 or more)");
  return version;
}
