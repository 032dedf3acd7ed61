/**
 * Reading the body of a JSON request: bounded in size (a body over the limit is refused as soon
 * as its Content-Length or its bytes so far exceed it, never buffered whole) and parsed into an
 * object, with errors that name what is wrong.
 */
import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { commonErrors } from "../../core/errors/index.js";

/**
 * Reads a request's body, at most `limit` bytes, within `timeoutMs` (0: no bound). Rejects with
 * REQUEST_TOO_LARGE when its Content-Length or the bytes received go beyond (the rest is not
 * read), REQUEST_TIMEOUT when the whole body has not arrived in time (a body shorter than its
 * Content-Length, an unterminated chunked body, a client trickling bytes), CANCELED when the
 * request fails (the client went away mid-body).
 */
export function readBody(req: IncomingMessage | Http2ServerRequest, limit: number, timeoutMs = 0): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? Number.NaN);
    if (declared > limit) {
      reject(commonErrors.requestTooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    const fail = (err: unknown): void => {
      clearTimeout(timer);
      req.off("data", onData);
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        fail(commonErrors.requestTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    if (timeoutMs > 0) timer = setTimeout(() => fail(commonErrors.requestTimeout(timeoutMs)), timeoutMs);
    req.on("data", onData);
    req.once("end", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    req.once("error", () => fail(commonErrors.canceled()));
  });
}

/** Bounds of {@link receiveBody}. */
export interface BodyLimits {
  /** Largest body in bytes. */
  readonly maxBytes: number;
  /** Longest the whole body may take to arrive, in ms (0: no bound). */
  readonly timeoutMs: number;
}

/** Bodies being read or read, per request: the admission step and the route share one read. */
const received = new WeakMap<IncomingMessage | Http2ServerRequest, Promise<Buffer>>();

/**
 * The request's body as {@link readBody} reads it, read once: later calls (with any limits) get
 * the same promise. Lets admission control wait for a body to arrive before counting the request,
 * and the route then take the bytes already read.
 */
export function receiveBody(req: IncomingMessage | Http2ServerRequest, limits: BodyLimits): Promise<Buffer> {
  let body = received.get(req);
  if (body === undefined) {
    body = readBody(req, limits.maxBytes, limits.timeoutMs);
    received.set(req, body);
  }
  return body;
}

/**
 * Parses a body as a JSON object: INVALID_ARGUMENT (field "body") for malformed JSON, with the
 * parser's reason, or for JSON that is not an object (`expected` says what it should be).
 */
export function parseJsonObject(body: Buffer, expected: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw commonErrors.invalidArgument(
      "body",
      `malformed JSON (${err instanceof Error ? err.message : "parse error"})`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw commonErrors.invalidArgument("body", `must be ${expected}`);
  }
  return value as Record<string, unknown>;
}
