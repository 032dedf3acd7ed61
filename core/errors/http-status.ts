import { Code } from "./code.js";

/**
 * The one table from status code to HTTP status, as Connect defines it
 * (https://connectrpc.com/docs/protocol#error-codes). JSON routes and docs use nothing else.
 */
const table: Record<Code, number> = {
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 400,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

/** The HTTP status a JSON route answers with for an error of this code. */
export function codeToHttpStatus(code: Code): number {
  return table[code];
}

/**
 * Errors whose HTTP status differs from their code's, for JSON routes only (Connect keeps its own
 * mapping): a body over the size limit is 413 Payload Too Large, which tells a client that
 * retrying will not help, where resource_exhausted's 429 would invite a retry; a body of the wrong
 * media type is 415 (RFC 9110 15.5.16); a request that did not arrive in time is 408, not the 504
 * of a deadline the server missed.
 */
const byId: Readonly<Record<string, number>> = {
  REQUEST_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  REQUEST_TIMEOUT: 408,
};

/**
 * The status listed above for this error's id, if any: other JSON surfaces with their own status
 * per code (the MLflow REST API's) take these too.
 */
export function httpStatusById(id: string): number | undefined {
  return byId[id];
}

/** The HTTP status a JSON route answers with for this error: by id where listed above, else by code. */
export function httpStatusOf(error: { readonly code: Code; readonly id: string }): number {
  return byId[error.id] ?? table[error.code];
}
