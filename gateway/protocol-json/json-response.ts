/**
 * Writing the JSON API's responses: a JSON body with its length, and errors as
 * `{"error": {"code", "id", "message", "field"}}` with the HTTP status of httpStatusOf (the one
 * table), `Retry-After` where waiting helps, and `Connection: close` after a body too large to read.
 */
import type { ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";
import {
  Code,
  commonErrors,
  errorJsonBody,
  httpStatusOf,
  inferenceErrors,
  type MlpipeError,
} from "../../core/errors/index.js";
import type { EncodedError } from "../protocol/error-response.js";

type Response = ServerResponse | Http2ServerResponse;

/** Seconds a client is told to wait (Retry-After) after a full queue, an overload or while the server is unavailable. */
export const retryAfterSeconds = 1;

/** Sends `body` as JSON with `status` (or ends the response when headers are already out). */
export function sendJson(res: Response, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * The headers that go with an error's JSON response: `Retry-After` for a full queue or an
 * unavailable server, `Connection: close` for a body refused unread (the connection cannot be
 * reused: the rest of the body is still on the way).
 */
function jsonErrorHeaders(err: MlpipeError): Record<string, string> {
  const headers: Record<string, string> = {};
  if (err.id === inferenceErrors.queueFull.id || err.code === Code.Unavailable) {
    headers["retry-after"] = String(retryAfterSeconds);
  }
  if (commonErrors.requestTooLarge.is(err)) headers.connection = "close";
  return headers;
}

/**
 * The body of a JSON error answer: mlpipe's own by default ({@link errorJsonBody}), or a dialect's
 * (the Open Inference Protocol answers `{"error": "<message>"}`). The status and headers are the same.
 */
export type JsonErrorBody = (err: MlpipeError) => unknown;

/**
 * How a JSON dialect encodes an error, status included: mlpipe's `{"error": {...}}` by default,
 * {@link jsonErrorEncoder} for a dialect with only its own body, MLflow's REST API with its own statuses.
 */
export type JsonErrorEncoder = (err: MlpipeError) => EncodedError & { readonly body: Uint8Array };

/** An error as the JSON API answers it (see the module comment), encoded; `bodyOf` shapes its body. */
export function jsonErrorResponse(
  err: MlpipeError,
  bodyOf: JsonErrorBody = errorJsonBody,
): EncodedError & { readonly body: Uint8Array } {
  const body = Buffer.from(JSON.stringify(bodyOf(err)));
  return {
    status: httpStatusOf(err),
    headers: {
      "content-type": "application/json",
      "content-length": String(body.byteLength),
      ...jsonErrorHeaders(err),
    },
    body,
  };
}

/** The encoder of a dialect whose errors differ from mlpipe's only in their body. */
export function jsonErrorEncoder(bodyOf: JsonErrorBody): JsonErrorEncoder {
  return (err) => jsonErrorResponse(err, bodyOf);
}

/**
 * Sends an error as the JSON API does (or ends the response when headers are already out);
 * `encode` picks another JSON dialect's error shape (the Open Inference Protocol's, MLflow's).
 */
export function sendJsonError(res: Response, err: MlpipeError, encode: JsonErrorEncoder = jsonErrorResponse): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const encoded = encode(err);
  res.writeHead(encoded.status, encoded.headers);
  res.end(encoded.body);
}
