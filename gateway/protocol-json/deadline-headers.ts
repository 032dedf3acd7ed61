/**
 * The deadline of a JSON request: `X-Request-Timeout-Ms`, or the `Connect-Timeout-Ms` a Connect
 * client would send, in milliseconds (a positive integer of up to 10 digits); the first present wins.
 */
import type { IncomingHttpHeaders } from "node:http";
import { commonErrors, type MlpipeError } from "../../core/errors/index.js";

/** Headers that carry a request's timeout in milliseconds, first match wins. */
const timeoutHeaders = ["x-request-timeout-ms", "connect-timeout-ms"] as const;

/** A parsed timeout: the absolute deadline, or the error to answer the request with. */
export type JsonDeadline =
  | { readonly deadline: number | undefined; readonly error?: undefined }
  | { readonly deadline?: undefined; readonly error: MlpipeError };

/** The answer for a request without timeout headers (most of them): shared, nothing to allocate. */
const noDeadline: JsonDeadline = Object.freeze({ deadline: undefined });

/**
 * The deadline the timeout headers set for a request received at `receivedAt` (ms on the
 * `performance.now()` clock): undefined without them, INVALID_ARGUMENT naming the header for a
 * value that is not a positive integer. Returned rather than thrown, so that the caller answers it
 * where it answers every other failure of the request.
 */
export function parseDeadlineHeaders(headers: IncomingHttpHeaders, receivedAt: number): JsonDeadline {
  for (const name of timeoutHeaders) {
    const value = headers[name];
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value[0] : value;
    if (text === undefined || !/^\d{1,10}$/.test(text.trim()) || Number(text) === 0) {
      return { error: commonErrors.invalidArgument(name, "must be a positive integer number of milliseconds") };
    }
    return { deadline: receivedAt + Number(text) };
  }
  return noDeadline;
}
