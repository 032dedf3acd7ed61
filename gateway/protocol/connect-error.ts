/**
 * An MlpipeError as connect-es's ConnectError, the error type its protocol implementations
 * (gRPC, gRPC-Web, Connect) encode: same code and message, with the `mlpipe.common.v1.ErrorDetail
 * {id, field}` detail (sent in `grpc-status-details-bin` on gRPC and gRPC-Web, in `details` on
 * Connect).
 */
import { Code as ConnectCode, ConnectError } from "@connectrpc/connect";
import { Code, type MlpipeError } from "../../core/errors/index.js";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";

/** The gRPC code numbers are the same on both sides; the table only satisfies the types. */
const connectCodes: Record<Code, ConnectCode> = {
  [Code.Canceled]: ConnectCode.Canceled,
  [Code.Unknown]: ConnectCode.Unknown,
  [Code.InvalidArgument]: ConnectCode.InvalidArgument,
  [Code.DeadlineExceeded]: ConnectCode.DeadlineExceeded,
  [Code.NotFound]: ConnectCode.NotFound,
  [Code.AlreadyExists]: ConnectCode.AlreadyExists,
  [Code.PermissionDenied]: ConnectCode.PermissionDenied,
  [Code.ResourceExhausted]: ConnectCode.ResourceExhausted,
  [Code.FailedPrecondition]: ConnectCode.FailedPrecondition,
  [Code.Aborted]: ConnectCode.Aborted,
  [Code.OutOfRange]: ConnectCode.OutOfRange,
  [Code.Unimplemented]: ConnectCode.Unimplemented,
  [Code.Internal]: ConnectCode.Internal,
  [Code.Unavailable]: ConnectCode.Unavailable,
  [Code.DataLoss]: ConnectCode.DataLoss,
  [Code.Unauthenticated]: ConnectCode.Unauthenticated,
};

/**
 * The ConnectError of `err`, with its ErrorDetail. `code` overrides the status code where a
 * protocol answers with another one than the error's (gRPC's UNIMPLEMENTED for an unknown method,
 * whose error is ROUTE_NOT_FOUND).
 */
export function connectErrorOf(err: MlpipeError, code: Code = err.code): ConnectError {
  return new ConnectError(err.message, connectCodes[code], undefined, [
    { desc: ErrorDetailSchema, value: { id: err.id, field: err.field ?? "" } },
  ]);
}
