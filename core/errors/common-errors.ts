import { Code } from "./code.js";
import { defineError } from "./define-error.js";

/** Errors any service can return. */
export const commonErrors = {
  invalidArgument: defineError(
    "INVALID_ARGUMENT",
    Code.InvalidArgument,
    "A request field has a bad value; `field` names it.",
    (field: string, reason: string) => `invalid ${field}: ${reason}`,
    (field: string) => ({ field }),
  ),
  invalidPageToken: defineError(
    "INVALID_PAGE_TOKEN",
    Code.InvalidArgument,
    "The page token is malformed or belongs to another query.",
    () => "invalid page_token: malformed, or issued for a different query",
    () => ({ field: "page_token" }),
  ),
  requestTooLarge: defineError(
    "REQUEST_TOO_LARGE",
    Code.ResourceExhausted,
    "The request body exceeds the configured size limit.",
    (limitBytes: number) => `request too large: the limit is ${limitBytes} bytes`,
  ),
  unsupportedMediaType: defineError(
    "UNSUPPORTED_MEDIA_TYPE",
    Code.InvalidArgument,
    "A JSON route was sent a body without `Content-Type: application/json` (a browser form or text/plain post is refused, so no page of another origin can post without a CORS preflight).",
    (received: string | undefined) =>
      `unsupported content type ${received === undefined ? "(none)" : JSON.stringify(received)}: send Content-Type: application/json`,
    () => ({ field: "content-type" }),
  ),
  requestTimeout: defineError(
    "REQUEST_TIMEOUT",
    Code.DeadlineExceeded,
    "The request's headers or body did not arrive within the server's read timeout (a body shorter than its Content-Length, an unterminated chunked body, a client sending too slowly).",
    (timeoutMs: number) => `the request was not received within ${timeoutMs} ms`,
  ),
  unsupportedEncoding: defineError(
    "UNSUPPORTED_ENCODING",
    Code.Unimplemented,
    "The request is compressed with an encoding the server does not decompress.",
    (encoding: string, supported: string) => `unsupported encoding ${encoding} (supported: ${supported})`,
    () => ({ field: "grpc-encoding" }),
  ),
  databaseUnavailable: defineError(
    "DATABASE_UNAVAILABLE",
    Code.Unavailable,
    "The metadata database cannot be reached; nothing was written. Retry later.",
    (_cause?: unknown) => "the metadata database is unavailable; nothing was written, retry later",
    (cause?: unknown) => ({ cause }),
  ),
  databaseStatementTimeout: defineError(
    "DATABASE_STATEMENT_TIMEOUT",
    Code.DeadlineExceeded,
    "A database statement ran longer than DATABASE_STATEMENT_TIMEOUT_MS and was canceled (an expensive search: narrow its filter or experiments); nothing was written.",
    (timeoutMs: number, _cause?: unknown) =>
      `the database statement ran longer than ${timeoutMs} ms and was canceled; nothing was written (narrow the query)`,
    (_timeoutMs: number, cause?: unknown) => ({ cause }),
  ),
  blobStoreUnavailable: defineError(
    "BLOB_STORE_UNAVAILABLE",
    Code.Unavailable,
    "The artifact store cannot be reached; nothing was written. Retry later.",
    (_cause?: unknown) => "the artifact store is unavailable; nothing was written, retry later",
    (cause?: unknown) => ({ cause }),
  ),
  blobStoreAccessDenied: defineError(
    "BLOB_STORE_ACCESS_DENIED",
    Code.FailedPrecondition,
    "The artifact store refused the server's credentials or access (AccessDenied, an unknown access key, a bad signature, a missing bucket): a configuration error that retrying will not fix; nothing was written.",
    (reason: string, _cause?: unknown) =>
      `the artifact store refused access (${reason}); nothing was written: check the server's S3 credentials and bucket`,
    (_reason: string, cause?: unknown) => ({ cause }),
  ),
  blobNotFound: defineError(
    "BLOB_NOT_FOUND",
    Code.NotFound,
    "The artifact store has no content at this key.",
    (key: string) => `no stored content at "${key}"`,
  ),
  deadlineExceeded: defineError(
    "DEADLINE_EXCEEDED",
    Code.DeadlineExceeded,
    "The request's deadline passed before it completed.",
    () => "deadline exceeded",
  ),
  canceled: defineError("CANCELED", Code.Canceled, "The client canceled the request.", () => "request canceled"),
  internal: defineError(
    "INTERNAL",
    Code.Internal,
    "An unexpected server error; details are in the server log.",
    (_cause?: unknown) => "internal error",
    (cause?: unknown) => ({ cause }),
  ),
  notFoundRoute: defineError(
    "ROUTE_NOT_FOUND",
    Code.NotFound,
    "No HTTP route or RPC matches the request path.",
    (path: string) => `no route for ${path}`,
  ),
};
