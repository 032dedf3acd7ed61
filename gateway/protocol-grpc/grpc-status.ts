/**
 * An error as gRPC status fields, the encoding gRPC and gRPC-Web share: `grpc-status` (the code),
 * `grpc-message` (the message, percent-encoded as the gRPC spec says, see grpc-message.ts) and
 * `grpc-status-details-bin` (a google.rpc.Status carrying mlpipe's ErrorDetail). gRPC sends them
 * as HTTP/2 trailers (or as the headers of a trailers-only response), gRPC-Web in its trailer frame
 * (protocol-grpc-web/trailer-frame.ts) or, for an error before any message, in its headers.
 */
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import type { Code, MlpipeError } from "../../core/errors/index.js";
import { connectErrorOf } from "../protocol/connect-error.js";
import { encodeGrpcMessage } from "./grpc-message.js";

/**
 * Sets the status fields of `err` in `target` (trailers being written or rewritten), replacing any
 * status already there. `code` overrides the error's code (see connectErrorOf).
 */
export function setGrpcStatus(target: Headers, err: MlpipeError, code?: Code): void {
  target.delete("grpc-status-details-bin");
  setTrailerStatus(target, connectErrorOf(err, code));
  // connect-es percent-encodes with encodeURIComponent, which grpc-js clients show undecoded.
  target.set("grpc-message", encodeGrpcMessage(err.message));
}

/** The status fields of `err` as a plain header object, for a response's trailers or trailers-only headers. */
export function grpcStatusHeaders(err: MlpipeError, code?: Code): Record<string, string> {
  const headers = new Headers();
  setGrpcStatus(headers, err, code);
  return Object.fromEntries(headers);
}
