/**
 * gRPC-Web's trailer frame: a response's status and trailers, sent as the body's last envelope
 * (flag 0x80) because browsers cannot read HTTP trailers
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md). Its status fields are gRPC's
 * (protocol-grpc/grpc-status.ts).
 */
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import type { MlpipeError } from "../../core/errors/index.js";
import { setGrpcStatus } from "../protocol-grpc/grpc-status.js";

/** The trailer frame of `trailers`. */
function encodeTrailerFrame(trailers: Headers): Uint8Array {
  return encodeEnvelope(trailerFlag, trailerSerialize(trailers));
}

/** The trailers of a trailer frame's payload (the bytes after its 5-byte prefix). */
export function parseTrailerFrame(payload: Uint8Array): Headers {
  return trailerParse(payload);
}

/** The trailer frame that ends a gRPC-Web response with `err`, beside `trailers` (if any). */
export function grpcWebErrorFrame(err: MlpipeError, trailers: Headers = new Headers()): Uint8Array {
  const target = new Headers(trailers);
  setGrpcStatus(target, err);
  return encodeTrailerFrame(target);
}
