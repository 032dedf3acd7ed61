/**
 * The deadline of a gRPC call from its `grpc-timeout` header: an integer of up to 8 digits and a
 * unit, H M S m u n (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md#requests),
 * parsed by connect-es.
 */
import { parseTimeout } from "@connectrpc/connect/protocol-grpc";
import { commonErrors, type MlpipeError } from "../../core/errors/index.js";

/** A parsed timeout: the absolute deadline, or the error to answer the call with. */
export type GrpcDeadline =
  | { readonly deadline: number | undefined; readonly error?: undefined }
  | { readonly deadline?: undefined; readonly error: MlpipeError };

/**
 * The deadline a `grpc-timeout` header sets for a call received at `receivedAt` (ms on the
 * `performance.now()` clock): undefined without the header, an INVALID_ARGUMENT error (field
 * "grpc-timeout") for a malformed one. Returned rather than thrown, so that the caller answers it
 * where it answers every other failure of the call.
 */
export function parseGrpcTimeout(header: string | undefined, receivedAt: number): GrpcDeadline {
  if (header === undefined) return { deadline: undefined };
  const parsed = parseTimeout(header, Number.MAX_SAFE_INTEGER);
  if (parsed.error !== undefined || parsed.timeoutMs === undefined) {
    return { error: commonErrors.invalidArgument("grpc-timeout", `invalid gRPC timeout ${JSON.stringify(header)}`) };
  }
  return { deadline: receivedAt + parsed.timeoutMs };
}
