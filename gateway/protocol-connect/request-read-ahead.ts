/**
 * Reading an RPC's request body ahead of connect-node, bounded in time and size (issue 13,
 * defect 3). connect-es (2.1) reads a body as it arrives with no time bound of its own: a unary
 * or server-streaming call whose body trickles in, or stops short of its Content-Length, waits
 * for the connection's idle timeout, and on the inference port it held an admission slot all that
 * time. Calls whose request is one message (unary and server-streaming: every method but the
 * client-streaming and bidi ones, whose request stream stays open by design) are read here first,
 * within REQUEST_READ_TIMEOUT_MS and the message size limit, and the bytes are handed to the
 * router's handler through the call's context values ({@link withReadAheadBody}), so the body is
 * read once. Load shedding (gateway/admission/load-shedding.ts) admits a prediction call only once
 * this read has settled.
 *
 * A body that does not arrive in time is REQUEST_TIMEOUT (deadline_exceeded), or DEADLINE_EXCEEDED
 * when the call's own deadline (Connect-Timeout-Ms, grpc-timeout) is the shorter bound, one over the size
 * limit REQUEST_TOO_LARGE, in the request's protocol (error-response.ts), and the connection is
 * closed after the answer (HTTP/1.1) or the stream reset (HTTP/2): the rest of the body is never read.
 */
import { constants as http2Constants } from "node:http2";
import { type ContextValues, createContextKey } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";
import { commonErrors, MlpipeError } from "../../core/errors/index.js";
import type { DualProtocolHandler } from "../http/dual-protocol-server.js";
import { parseContentType } from "../protocol/content-type.js";
import { encodeError, rpcErrorWire, sendEncodedError } from "../protocol/error-response.js";
import { parseGrpcTimeout } from "../protocol-grpc/parse-timeout.js";
import { type BodyLimits, receiveBody } from "../protocol-json/request-body.js";
import { wrapUniversalHandler } from "./wrap-universal-handler.js";

type Request = Parameters<DualProtocolHandler>[0];
type Response = Parameters<DualProtocolHandler>[1];

/** Bytes of the envelope (flags and length) before each message of a streaming protocol's body. */
const envelopeBytes = 5;

/** The request body read ahead of the router's handler; absent when the call's body is read as it arrives. */
export const readAheadBodyKey = createContextKey<Uint8Array | undefined>(undefined, {
  description: "request body read ahead",
});

/** Bodies read whole, kept until connect-node asks for the call's context values. */
const readBodies = new WeakMap<Request, Uint8Array>();

/** Whether a method of this kind has a request of one message, read ahead. */
export function readsAhead(methodKind: string): boolean {
  return methodKind === "unary" || methodKind === "server_streaming";
}

/** The limits a read-ahead body is read within: one message (and its envelope), `timeoutMs` to arrive. */
export function readAheadLimits(maxRequestBytes: number, timeoutMs: number): BodyLimits {
  return { maxBytes: maxRequestBytes + envelopeBytes, timeoutMs };
}

/**
 * The timeout the call sets itself in ms (Connect-Timeout-Ms, else grpc-timeout), if a valid one;
 * a malformed one is connect-es's to answer once the body is read.
 */
function callTimeoutMs(req: Request): number | undefined {
  const connect = req.headers["connect-timeout-ms"];
  if (typeof connect === "string") return /^\d{1,10}$/.test(connect) ? Number(connect) : undefined;
  const grpc = req.headers["grpc-timeout"];
  if (typeof grpc !== "string") return undefined;
  return parseGrpcTimeout(grpc, 0).deadline;
}

/**
 * Starts (or joins) the bounded read of `req`'s body and resolves when it has arrived; rejects
 * with the MlpipeError that says why it did not. Reads once per request (request-body.ts). A call
 * whose own deadline comes before `limits.timeoutMs` is read until its deadline only.
 */
export function readAhead(req: Request, limits: BodyLimits): Promise<void> {
  const deadlineMs = callTimeoutMs(req);
  const byDeadline = deadlineMs !== undefined && deadlineMs < limits.timeoutMs;
  const bounded = byDeadline ? { ...limits, timeoutMs: Math.max(1, deadlineMs) } : limits;
  return receiveBody(req, bounded).then(
    (body) => {
      readBodies.set(req, body);
    },
    (err: unknown) => {
      throw byDeadline && commonErrors.requestTimeout.is(err) ? commonErrors.deadlineExceeded() : err;
    },
  );
}

/**
 * Answers a request whose body could not be read ahead with `err` in its protocol's encoding and
 * frees the connection (the unread rest of the body is dropped with it).
 */
export function refuseUnreadBody(req: Request, res: Response, err: unknown): void {
  // readBody rejects with catalogued errors only; anything else would be a defect here.
  const refusal = err instanceof MlpipeError ? err : commonErrors.internal(err);
  const contentType = req.headers["content-type"] ?? "application/json";
  const encoded = encodeError(refusal, rpcErrorWire(parseContentType(contentType)));
  if ("stream" in res) {
    sendEncodedError(res, encoded, contentType);
    // The client may still be sending: the stream is reset once the answer is out (NO_ERROR, RFC 9113 8.1).
    const stream = res.stream;
    if (!stream.destroyed) stream.close(http2Constants.NGHTTP2_NO_ERROR);
    return;
  }
  sendEncodedError(res, { ...encoded, headers: { ...encoded.headers, connection: "close" } }, contentType);
}

/** Adds the body read ahead for `req`, if any, to its context values (connect-node's `contextValues` hook). */
export function withReadAheadValue(req: Request, values: ContextValues): ContextValues {
  const body = readBodies.get(req);
  if (body !== undefined) values.set(readAheadBodyKey, body);
  return values;
}

/** A body of one chunk. */
async function* only(chunk: Uint8Array): AsyncIterable<Uint8Array> {
  yield chunk;
}

/** Wraps one of the router's handlers: a call whose body was read ahead reads those bytes instead of the socket. */
export function withReadAheadBody(handler: UniversalHandler): UniversalHandler {
  const handle = (req: UniversalServerRequest) => {
    const body = req.contextValues?.get(readAheadBodyKey);
    return handler(body === undefined ? req : { ...req, body: only(body) });
  };
  return wrapUniversalHandler(handler, handle);
}
