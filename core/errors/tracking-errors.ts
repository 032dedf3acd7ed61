import { Code } from "./code.js";
import { defineError } from "./define-error.js";

/** Errors of the tracking service (experiments, runs, metrics, artifacts). */
export const trackingErrors = {
  experimentNotFound: defineError(
    "TRACKING_EXPERIMENT_NOT_FOUND",
    Code.NotFound,
    "No experiment has this id or name.",
    (what: string) => `experiment ${what} does not exist`,
  ),
  experimentAlreadyExists: defineError(
    "TRACKING_EXPERIMENT_ALREADY_EXISTS",
    Code.AlreadyExists,
    "An active experiment already has this name.",
    (name: string) => `an active experiment named "${name}" already exists`,
    () => ({ field: "name" }),
  ),
  experimentNotActive: defineError(
    "TRACKING_EXPERIMENT_NOT_ACTIVE",
    Code.FailedPrecondition,
    "The experiment is deleted; restore it first.",
    (id: string) => `experiment ${id} is deleted; restore it first`,
  ),
  experimentNotDeleted: defineError(
    "TRACKING_EXPERIMENT_NOT_DELETED",
    Code.FailedPrecondition,
    "Only a deleted experiment can be purged or restored.",
    (id: string) => `experiment ${id} is not deleted`,
  ),
  runNotFound: defineError(
    "TRACKING_RUN_NOT_FOUND",
    Code.NotFound,
    "No run has this id.",
    (id: string) => `run ${id} does not exist`,
  ),
  runNotActive: defineError(
    "TRACKING_RUN_NOT_ACTIVE",
    Code.FailedPrecondition,
    "The run is deleted; restore it before logging to it.",
    (id: string) => `run ${id} is deleted; restore it first`,
  ),
  runNotDeleted: defineError(
    "TRACKING_RUN_NOT_DELETED",
    Code.FailedPrecondition,
    "Only a deleted run can be restored.",
    (id: string) => `run ${id} is not deleted`,
  ),
  paramChanged: defineError(
    "TRACKING_PARAM_CHANGED",
    Code.InvalidArgument,
    "A param was already logged for the run with a different value; params are immutable.",
    (key: string, oldValue: string, newValue: string) =>
      `param "${key}" was already logged with value "${oldValue}"; cannot change it to "${newValue}"`,
    (key: string) => ({ field: `params.${key}` }),
  ),
  tagNotFound: defineError(
    "TRACKING_TAG_NOT_FOUND",
    Code.NotFound,
    "No tag with this key is set.",
    (key: string) => `tag "${key}" is not set`,
    () => ({ field: "key" }),
  ),
  invalidFilter: defineError(
    "TRACKING_INVALID_FILTER",
    Code.InvalidArgument,
    "The search filter is malformed; the message names the position (1-based column) of the error.",
    (position: number, reason: string) => `invalid filter at position ${position}: ${reason}`,
    () => ({ field: "filter" }),
  ),
  invalidOrderBy: defineError(
    "TRACKING_INVALID_ORDER_BY",
    Code.InvalidArgument,
    "An order_by clause is malformed.",
    (clause: string, reason: string) => `invalid order_by "${clause}": ${reason}`,
    () => ({ field: "order_by" }),
  ),
  artifactNotFound: defineError(
    "TRACKING_ARTIFACT_NOT_FOUND",
    Code.NotFound,
    "No artifact file exists at this path of the run.",
    (runId: string, path: string) => `run ${runId} has no artifact file "${path}"`,
    () => ({ field: "path" }),
  ),
  artifactLocationUnsupported: defineError(
    "TRACKING_ARTIFACT_LOCATION_UNSUPPORTED",
    Code.FailedPrecondition,
    "The run's artifact URI is outside this server's artifact root, so the server cannot read or write its artifacts.",
    (uri: string, rootUri: string) => `artifact URI "${uri}" is not under this server's artifact root "${rootUri}"`,
  ),
  artifactChecksumMismatch: defineError(
    "TRACKING_ARTIFACT_CHECKSUM_MISMATCH",
    Code.DataLoss,
    "The uploaded content does not match the expected SHA-256; nothing was stored.",
    (expected: string, actual: string) =>
      `uploaded content has sha256 ${actual}, expected ${expected}; nothing was stored`,
    () => ({ field: "expected_sha256" }),
  ),
};
