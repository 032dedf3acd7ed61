/**
 * Makes a request message that cannot be parsed as protobuf a client error. connect-es (2.1)
 * parses request messages before any interceptor runs and reports a binary parse failure as
 * INTERNAL "parse binary: <reason>" (its JSON parse failures are already INVALID_ARGUMENT), which
 * tells the client the server is broken when the client sent garbage, and answers HTTP 500 on
 * Connect. The library has no hook between parsing and encoding the error, so this wraps each
 * universal handler of the router and rewrites that one error, in each protocol's encoding, into
 * mlpipe's INVALID_ARGUMENT (id INVALID_ARGUMENT, field "request") before the response is written:
 *
 * - gRPC: the `grpc-status` trailer (or trailers-only header);
 * - gRPC-Web: the trailer frame, when it is the whole response;
 * - Connect unary: the JSON error body and the HTTP status (500 -> 400);
 * - Connect streaming: the end-of-stream frame, when it is the whole response.
 *
 * Only the parse failure is recognised, by connect-es's "parse binary: " message prefix on an
 * INTERNAL error with no details (mlpipe's own INTERNAL errors always carry an ErrorDetail);
 * gateway/protocol-connect/malformed-request.int.test.ts fails if an upgrade changes that text.
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

const parsePrefix = "parse binary: ";

/** The translation of `err` when it is connect-es's request parse failure; undefined otherwise. */
function asInvalidArgument(err: ConnectError | undefined, method: DescMethod): MlpipeError | undefined {
  if (err?.code !== ConnectCode.Internal || err.details.length > 0 || !err.rawMessage.startsWith(parsePrefix)) {
    return undefined;
  }
  const reason = err.rawMessage.slice(parsePrefix.length);
  return commonErrors.invalidArgument("request", `not a valid ${method.input.typeName} message (${reason})`);
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
export function withMalformedRequestStatus(handler: UniversalHandler, logger: Logger): UniversalHandler {
  const { method } = handler;
  const procedure = `/${handler.service.typeName}/${method.name}`;
  /** The translation of `err`, logged, when it is the parse failure. */
  const translate = (err: ConnectError | undefined): MlpipeError | undefined => {
    const translated = asInvalidArgument(err, method);
    if (translated !== undefined) logger.debug({ procedure, reason: err?.rawMessage }, "malformed request message");
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

  return Object.assign((req: UniversalServerRequest) => handler(req).then((res) => wrap(res, req)), {
    protocolNames: handler.protocolNames,
    service: handler.service,
    method: handler.method,
    requestPath: handler.requestPath,
    allowedMethods: handler.allowedMethods,
    supportedContentType: handler.supportedContentType,
  });
}
