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
  blobStoreUnavailable: defineError(
    "BLOB_STORE_UNAVAILABLE",
    Code.Unavailable,
    "The artifact store cannot be reached; nothing was written. Retry later.",
    (_cause?: unknown) => "the artifact store is unavailable; nothing was written, retry later",
    (cause?: unknown) => ({ cause }),
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
