/**
 * An error in the Connect protocol's own encodings (https://connectrpc.com/docs/protocol): for a
 * unary call, the JSON error `{"code", "message", "details"}` with the HTTP status of its code
 * (codeToHttpStatus, the one table); for a streaming call, HTTP 200 and an end-of-stream envelope
 * carrying the error. Both carry mlpipe's ErrorDetail in `details`.
 */
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import { endStreamFlag, endStreamToJson, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { codeToHttpStatus, type MlpipeError } from "../../core/errors/index.js";
import { connectErrorOf } from "../protocol/connect-error.js";

/** A Connect unary error response: its HTTP status and JSON body. */
export function connectUnaryError(err: MlpipeError): { readonly status: number; readonly body: Uint8Array } {
  return { status: codeToHttpStatus(err.code), body: errorToJsonBytes(connectErrorOf(err), undefined) };
}

/** The end-of-stream envelope that ends a Connect streaming response with `err` (and `trailers`, if any). */
export function connectEndStreamFrame(err: MlpipeError, trailers: Headers = new Headers()): Uint8Array {
  const json = JSON.stringify(endStreamToJson(trailers, connectErrorOf(err), undefined));
  return encodeEnvelope(endStreamFlag, new TextEncoder().encode(json));
}
