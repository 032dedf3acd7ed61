/**
 * Gives connect-es's own protocol errors their catalogue ids and the right codes. connect-es (2.1)
 * checks and parses requests before any interceptor runs, so its errors carry no ErrorDetail, and
 * it reports a binary parse failure as INTERNAL "parse binary: <reason>" (HTTP 500 on Connect),
 * which tells the client the server is broken when the client sent garbage. The library has no
 * hook between parsing and encoding the error, so this wraps each universal handler of the router
 * and rewrites those errors, in each protocol's encoding, before the response is written:
 * a parse failure becomes INVALID_ARGUMENT (field "request"), a JSON decode error INVALID_ARGUMENT,
 * a message over readMaxBytes REQUEST_TOO_LARGE, an unknown request compression
 * UNSUPPORTED_ENCODING (UNIMPLEMENTED; the accepted encodings stay in the headers or end-of-stream
 * metadata), a passed deadline DEADLINE_EXCEEDED. The codes are connect-es's except the parse
 * failure's; the HTTP status of a Connect unary error is the Connect protocol's (codeToHttpStatus:
 * 429 for REQUEST_TOO_LARGE, where JSON routes answer 413, see docs/errors.md). Rewritten in:
 *
 * - gRPC: the `grpc-status` trailer (or trailers-only header);
 * - gRPC-Web: the trailer frame, when it is the whole response;
 * - Connect unary: the JSON error body and the HTTP status (500 -> 400);
 * - Connect streaming: the end-of-stream frame, when it is the whole response.
 *
 * Errors are recognised by their code, no details (mlpipe's own errors always carry an
 * ErrorDetail) and, for the parse failure and unknown compression, connect-es's message text;
 * malformed-request.int.test.ts and connect-edge-cases.int.test.ts fail if an upgrade changes it.
 * A Connect unary call with Connect-Timeout-Ms also gets its answer at the deadline at the latest
 * (504 deadline_exceeded), even while its body is still arriving or its handler still running.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { Code as ConnectCode, type ConnectError } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { endStreamFlag, endStreamFromJson, errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag } from "@connectrpc/connect/protocol-grpc-web";
import { commonErrors, type MlpipeError } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import { connectErrorOf } from "../protocol/connect-error.js";
import { parseContentType } from "../protocol/content-type.js";
import { setGrpcStatus } from "../protocol-grpc/grpc-status.js";
import { grpcWebErrorFrame, parseTrailerFrame } from "../protocol-grpc-web/trailer-frame.js";
import { connectEndStreamFrame, connectUnaryError } from "./connect-error-body.js";
import { wrapUniversalHandler } from "./wrap-universal-handler.js";

const parsePrefix = "parse binary: ";
const unknownCompression = /^unknown compression "([^"]*)": supported encodings are (.*)$/;

/**
 * The catalogued translation of `err` when it is one of connect-es's own protocol errors (raised
 * before any interceptor runs, so without mlpipe's ErrorDetail); undefined otherwise. mlpipe's own
 * errors always carry an ErrorDetail and pass unchanged.
 */
function asCatalogued(
  err: ConnectError | undefined,
  method: DescMethod,
  maxRequestBytes: number,
): MlpipeError | undefined {
  if (err === undefined || err.details.length > 0) return undefined;
  switch (err.code) {
    case ConnectCode.Internal:
      if (!err.rawMessage.startsWith(parsePrefix)) return undefined;
      return commonErrors.invalidArgument(
        "request",
        `not a valid ${method.input.typeName} message (${err.rawMessage.slice(parsePrefix.length)})`,
      );
    case ConnectCode.InvalidArgument:
      // JSON that does not parse, unknown fields, a bad timeout header.
      return commonErrors.invalidArgument("request", err.rawMessage);
    case ConnectCode.ResourceExhausted:
      return commonErrors.requestTooLarge(maxRequestBytes);
    case ConnectCode.DeadlineExceeded:
      return commonErrors.deadlineExceeded();
    case ConnectCode.Unimplemented: {
      const match = unknownCompression.exec(err.rawMessage);
      return match === null ? undefined : commonErrors.unsupportedEncoding(match[1] ?? "", match[2] ?? "");
    }
    default:
      return undefined;
  }
}

/** The Connect-Timeout-Ms of a request in ms, when it has a valid one (up to 10 digits, per the spec). */
function connectTimeoutMs(header: Headers): number | undefined {
  const value = header.get("connect-timeout-ms");
  if (value === null || !/^\d{1,10}$/.test(value)) return undefined;
  return Number(value);
}

/**
 * `response`, or a Connect unary deadline_exceeded answer (504, id DEADLINE_EXCEEDED) if the
 * deadline passes first: connect-es aborts the handler's signal at the deadline but still waits
 * for the whole request body, and a handler that finishes its work after the deadline would answer
 * 200 late. The connection is closed after the answer, as the rest of the body is not read.
 */
function beforeDeadline(
  response: Promise<UniversalServerResponse>,
  timeoutMs: number,
): Promise<UniversalServerResponse> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const encoded = connectUnaryError(commonErrors.deadlineExceeded());
      const header = new Headers({
        "content-type": "application/json",
        "content-length": String(encoded.body.byteLength),
        connection: "close",
      });
      resolve({ status: encoded.status, header, body: only(encoded.body) });
    }, timeoutMs);
    response.then(
      (res) => {
        clearTimeout(timer);
        resolve(res);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A body of one chunk. */
async function* only(chunk: Uint8Array): AsyncIterable<Uint8Array> {
  yield chunk;
}

/** The payload of `chunk` when it is exactly one uncompressed envelope with `flag` set. */
function soleEnvelope(chunk: Uint8Array, flag: number): Uint8Array | undefined {
  if (chunk.byteLength < 5) return undefined;
  const flags = chunk[0] ?? 0;
  const length = new DataView(chunk.buffer, chunk.byteOffset + 1, 4).getUint32(0);
  if ((flags & flag) !== flag || (flags & 0b1) !== 0 || chunk.byteLength !== 5 + length) return undefined;
  return chunk.subarray(5);
}

/**
 * A body that passes through unchanged, except that a first chunk which is the whole response
 * and a single uncompressed end frame with `flag` (gRPC-Web trailers, Connect end-of-stream) is
 * replaced by what `rewrite` makes of its payload, when it makes anything.
 */
function rewriteSoleEndFrame(
  body: AsyncIterable<Uint8Array>,
  flag: number,
  rewrite: (payload: Uint8Array) => Uint8Array | undefined,
): AsyncIterable<Uint8Array> {
  const rewriteChunk = (chunk: Uint8Array): Uint8Array => {
    const payload = soleEnvelope(chunk, flag);
    return (payload === undefined ? undefined : rewrite(payload)) ?? chunk;
  };
  return (async function* () {
    let first = true;
    for await (const chunk of body) {
      yield first ? rewriteChunk(chunk) : chunk;
      first = false;
    }
  })();
}

/** Wraps one of the router's handlers; other errors and successful responses pass unchanged. */
export function withMalformedRequestStatus(
  handler: UniversalHandler,
  logger: Logger,
  maxRequestBytes: number,
): UniversalHandler {
  const { method } = handler;
  const procedure = `/${handler.service.typeName}/${method.name}`;
  /** The translation of `err`, logged, when it is the parse failure. */
  const translate = (err: ConnectError | undefined): MlpipeError | undefined => {
    const translated = asCatalogued(err, method, maxRequestBytes);
    if (translated !== undefined) logger.debug({ procedure, reason: err?.rawMessage }, "protocol error");
    return translated;
  };

  const wrap = async (uRes: UniversalServerResponse, req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const body = uRes.body;
    if (body === undefined) return uRes;
    // The router's handler negotiates the protocol of each request by its content type; so does this.
    const type = parseContentType(req.header.get("content-type") ?? undefined);
    if (type?.protocol === "grpc" && uRes.trailer !== undefined) {
      const trailer = uRes.trailer;
      // The status is in the trailer once the body is done (the adapter sends trailers after it).
      const fixed = (async function* () {
        yield* body;
        const translated = translate(findTrailerError(trailer));
        if (translated !== undefined) setGrpcStatus(trailer, translated);
      })();
      return { ...uRes, body: fixed };
    }
    if (type?.protocol === "grpc_web") {
      const rewritten = rewriteSoleEndFrame(body, trailerFlag, (payload) => {
        const trailer = parseTrailerFrame(payload);
        const translated = translate(findTrailerError(trailer));
        return translated && grpcWebErrorFrame(translated, trailer);
      });
      return { ...uRes, body: rewritten };
    }
    if (type?.protocol !== "connect") return uRes;
    if (method.methodKind === "unary") {
      if (uRes.status === 200) return uRes;
      const bytes = await readAll(body);
      const translated = translate(errorFromJsonBytes(bytes, undefined, connectErrorOf(commonErrors.internal())));
      if (translated === undefined) return { ...uRes, body: only(bytes) };
      const encoded = connectUnaryError(translated);
      // Headers such as Accept-Encoding (the encodings accepted, on UNSUPPORTED_ENCODING) are kept.
      const header = new Headers(uRes.header);
      header.set("content-length", String(encoded.body.byteLength));
      return { ...uRes, status: encoded.status, header, body: only(encoded.body) };
    }
    const rewritten = rewriteSoleEndFrame(body, endStreamFlag, (payload) => {
      const end = endStreamFromJson(payload);
      const translated = translate(end.error);
      return translated && connectEndStreamFrame(translated, end.metadata);
    });
    return { ...uRes, body: rewritten };
  };

  const handle = (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const response = handler(req).then((res) => wrap(res, req));
    const unaryConnect =
      method.methodKind === "unary" &&
      parseContentType(req.header.get("content-type") ?? undefined)?.protocol === "connect";
    const timeoutMs = unaryConnect ? connectTimeoutMs(req.header) : undefined;
    return timeoutMs === undefined ? response : beforeDeadline(response, timeoutMs);
  };
  return wrapUniversalHandler(handler, handle);
}
