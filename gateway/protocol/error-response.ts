/**
 * An error answered in the encoding of the request's protocol, for the edge's answers that come
 * before (or instead of) any handler: load shedding and unknown routes. Each encoding is its
 * protocol folder's; this picks one by content type and writes it:
 *
 * - JSON API: the status of httpStatusOf and `{"error": {...}}` (protocol-json/json-response.ts);
 * - gRPC and gRPC-Web: a trailers-only response, HTTP 200 with the status fields in its headers
 *   (protocol-grpc/grpc-status.ts);
 * - Connect unary: the status of the code and the Connect JSON error; Connect streaming: HTTP 200
 *   and an end-of-stream frame (protocol-connect/connect-error-body.ts).
 */
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import type { Code, MlpipeError } from "../../core/errors/index.js";
import { connectEndStreamFrame, connectUnaryError } from "../protocol-connect/connect-error-body.js";
import { grpcStatusHeaders } from "../protocol-grpc/grpc-status.js";
import { jsonErrorResponse } from "../protocol-json/json-response.js";
import type { ContentType } from "./content-type.js";

/**
 * A response of either HTTP version, as connect-node hands one to its fallback (its
 * NodeServerResponse, which the package does not export by name).
 */
type Response = Parameters<NonNullable<ConnectNodeAdapterOptions["fallback"]>>[1];

/** The encodings an error takes at the edge, one per wire protocol. */
export type ErrorWire = "json" | "grpc" | "grpc_web" | "connect_unary" | "connect_stream";

/** An encoded error response. */
export interface EncodedError {
  /** The HTTP status (200 for gRPC, gRPC-Web and Connect streaming, whose status is in the response). */
  readonly status: number;
  /** Response headers; the request's content type is sent back where they name none. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body; undefined for a trailers-only response (gRPC, gRPC-Web). */
  readonly body: Uint8Array | undefined;
}

/** The error encoding of an RPC request with this content type (a request naming no RPC protocol is Connect unary). */
export function rpcErrorWire(type: ContentType | undefined): ErrorWire {
  if (type === undefined) return "connect_unary";
  if (type.protocol !== "connect") return type.protocol;
  return type.enveloped ? "connect_stream" : "connect_unary";
}

/**
 * Encodes `err` for `wire`. `grpcCode` is the status gRPC and gRPC-Web answer with instead of the
 * error's own code (UNIMPLEMENTED for an unknown method).
 */
export function encodeError(err: MlpipeError, wire: ErrorWire, grpcCode?: Code): EncodedError {
  switch (wire) {
    case "json":
      return jsonErrorResponse(err);
    case "grpc":
    case "grpc_web":
      return { status: 200, headers: grpcStatusHeaders(err, grpcCode), body: undefined };
    case "connect_unary": {
      const { status, body } = connectUnaryError(err);
      return {
        status,
        headers: { "content-type": "application/json", "content-length": String(body.byteLength) },
        body,
      };
    }
    case "connect_stream": {
      const body = connectEndStreamFrame(err);
      return { status: 200, headers: { "content-length": String(body.byteLength) }, body };
    }
  }
}

/**
 * Writes an encoded error with the request's `contentType` unless it names its own. A trailers-only
 * response on HTTP/2 goes out as one HEADERS frame with END_STREAM, as gRPC clients expect (the
 * compatibility API would send the end of the stream in a separate DATA frame).
 */
export function sendEncodedError(res: Response, encoded: EncodedError, contentType: string): void {
  const headers = { "content-type": contentType, ...encoded.headers };
  if (encoded.body === undefined && "stream" in res) {
    res.stream.respond({ ":status": encoded.status, ...headers }, { endStream: true });
    return;
  }
  res.writeHead(encoded.status, headers);
  if (encoded.body === undefined) res.end();
  else res.end(encoded.body);
}
