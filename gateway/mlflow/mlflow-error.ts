/**
 * Errors on the MLflow REST surface: an MlpipeError told as MLflow's server tells its own,
 * `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "..."}` with the HTTP status MLflow gives
 * that error code (mlflow/exceptions.py `ERROR_CODE_TO_HTTP_STATUS`). MLflow clients read the
 * error code from the body (the Python client raises `RestException(error_code)`), and retry on
 * 429 and 5xx, so the status matters as much as the code.
 *
 * The status comes from MLflow's own table, a protocol's table like gRPC's status trailer, not
 * from mlpipe's code-to-HTTP table: the two differ for "already exists" (MLflow answers
 * RESOURCE_ALREADY_EXISTS with 400, mlpipe's JSON API with 409). One deliberate exception, as on
 * mlpipe's JSON routes: a body over the size limit is 413, since MLflow clients retry a 429
 * forever and an oversized body can never succeed; a POST not declared JSON is 415 (refused unread,
 * so a page of another origin cannot post without a CORS preflight; MLflow's clients declare it);
 * a body that did not arrive within REQUEST_READ_TIMEOUT_MS is 408 (DEADLINE_EXCEEDED's 504 would
 * say the server missed a deadline, and invite a retry of what the client failed to send).
 */
import { Code, commonErrors, httpStatusById, type MlpipeError } from "../../core/errors/index.js";

/** The error codes of MLflow's `databricks.proto` that mlpipe's errors map to. */
export type MlflowErrorCode =
  | "INVALID_PARAMETER_VALUE"
  | "RESOURCE_DOES_NOT_EXIST"
  | "RESOURCE_ALREADY_EXISTS"
  | "ENDPOINT_NOT_FOUND"
  | "PERMISSION_DENIED"
  | "UNAUTHENTICATED"
  | "REQUEST_LIMIT_EXCEEDED"
  | "RESOURCE_EXHAUSTED"
  | "TEMPORARILY_UNAVAILABLE"
  | "DEADLINE_EXCEEDED"
  | "CANCELLED"
  | "ABORTED"
  | "NOT_IMPLEMENTED"
  | "DATA_LOSS"
  | "INTERNAL_ERROR";

/**
 * The MLflow error code of each status code. Failed preconditions (a deleted run, a version whose
 * registration failed) are INVALID_PARAMETER_VALUE, as MLflow's stores raise them (its
 * INVALID_STATE would be a 500 for a client's mistake).
 */
const byCode: Readonly<Record<Code, MlflowErrorCode>> = {
  [Code.Canceled]: "CANCELLED",
  [Code.Unknown]: "INTERNAL_ERROR",
  [Code.InvalidArgument]: "INVALID_PARAMETER_VALUE",
  [Code.DeadlineExceeded]: "DEADLINE_EXCEEDED",
  [Code.NotFound]: "RESOURCE_DOES_NOT_EXIST",
  [Code.AlreadyExists]: "RESOURCE_ALREADY_EXISTS",
  [Code.PermissionDenied]: "PERMISSION_DENIED",
  [Code.ResourceExhausted]: "RESOURCE_EXHAUSTED",
  [Code.FailedPrecondition]: "INVALID_PARAMETER_VALUE",
  [Code.Aborted]: "ABORTED",
  [Code.OutOfRange]: "INVALID_PARAMETER_VALUE",
  [Code.Unimplemented]: "NOT_IMPLEMENTED",
  [Code.Internal]: "INTERNAL_ERROR",
  [Code.Unavailable]: "TEMPORARILY_UNAVAILABLE",
  [Code.DataLoss]: "DATA_LOSS",
  [Code.Unauthenticated]: "UNAUTHENTICATED",
};

/** MLflow's HTTP status of each of its error codes (mlflow/exceptions.py). */
const httpStatus: Readonly<Record<MlflowErrorCode, number>> = {
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  PERMISSION_DENIED: 403,
  UNAUTHENTICATED: 401,
  REQUEST_LIMIT_EXCEEDED: 429,
  RESOURCE_EXHAUSTED: 429,
  ABORTED: 409,
  CANCELLED: 499,
  INTERNAL_ERROR: 500,
  DATA_LOSS: 500,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

/** The MLflow error code `err` is told with: by id where one has its own, else by status code. */
export function mlflowErrorCode(err: Pick<MlpipeError, "code" | "id">): MlflowErrorCode {
  if (err.id === commonErrors.notFoundRoute.id) return "ENDPOINT_NOT_FOUND";
  if (err.id === commonErrors.requestTooLarge.id) return "INVALID_PARAMETER_VALUE";
  return byCode[err.code];
}

/**
 * The HTTP status `err` is answered with on the MLflow surface (see the module comment): the
 * statuses mlpipe's JSON routes give by error id (413, 415, 408) first, then MLflow's table.
 */
export function mlflowHttpStatus(err: Pick<MlpipeError, "code" | "id">): number {
  return httpStatusById(err.id) ?? httpStatus[mlflowErrorCode(err)];
}

/** An error as MLflow's server answers it: status, headers and the JSON body. */
export function mlflowErrorResponse(err: MlpipeError): {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
} {
  const body = Buffer.from(JSON.stringify({ error_code: mlflowErrorCode(err), message: err.message }));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "content-length": String(body.byteLength),
  };
  // The rest of a body refused unread (or given up on) may still be on its way: the connection
  // cannot be reused.
  if (commonErrors.requestTooLarge.is(err) || commonErrors.requestTimeout.is(err)) headers.connection = "close";
  return { status: mlflowHttpStatus(err), headers, body };
}
