import { Code as ConnectCode, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Code } from "../../core/errors/code.js";
import { commonErrors } from "../../core/errors/common-errors.js";
import { MlpipeError } from "../../core/errors/mlpipe-error.js";
import type { Logger } from "../../core/logger.js";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";

/** What is known of the call an error belongs to, for the log line. */
export interface ErrorContext {
  /** "/mlpipe.tracking.v1.TrackingService/GetRun". */
  readonly procedure: string;
  /** The call's signal: an error after the client went away is a cancellation, not a failure. */
  readonly signal: AbortSignal;
}

/**
 * Translates any error a handler raises into the ConnectError sent to the client:
 * - ConnectError (raised by the protocol layer: limits, parsing, deadlines) passes through;
 * - MlpipeError keeps its code and message and gets an `mlpipe.common.v1.ErrorDetail {id, field}`
 *   detail (gRPC: `grpc-status-details-bin`; Connect: `details`); UNAVAILABLE, INTERNAL and
 *   UNKNOWN ones are logged with their cause;
 * - anything else after the client canceled becomes CANCELED;
 * - anything else (a constraint violation the store did not map, a bug) is logged with its cause
 *   and becomes INTERNAL "internal error", so no internals leak.
 */
export function toConnectError(err: unknown, context: ErrorContext, logger: Logger): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof MlpipeError) {
    if (err.code === Code.Unavailable) {
      logger.warn({ err: err.cause ?? err, procedure: context.procedure, id: err.id }, err.message);
    } else if (err.code === Code.Internal || err.code === Code.Unknown) {
      logger.error({ err: err.cause ?? err, procedure: context.procedure, id: err.id }, err.message);
    } else {
      logger.debug({ procedure: context.procedure, id: err.id, field: err.field }, err.message);
    }
    return fromMlpipeError(err);
  }
  if (context.signal.aborted) {
    logger.debug({ err, procedure: context.procedure }, "call canceled");
    return fromMlpipeError(commonErrors.canceled());
  }
  logger.error({ err, procedure: context.procedure }, "unexpected error in handler");
  return fromMlpipeError(commonErrors.internal(err));
}

/** The ConnectError of an MlpipeError: same code and message, ErrorDetail attached. */
export function fromMlpipeError(err: MlpipeError): ConnectError {
  return new ConnectError(err.message, connectCodes[err.code], undefined, [
    { desc: ErrorDetailSchema, value: { id: err.id, field: err.field ?? "" } },
  ]);
}

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
 * A server interceptor applying {@link toConnectError} to every call: to errors of unary
 * handlers, of client-streaming handlers (including those raised while the request stream is
 * consumed), and of server-streaming handlers while their response is iterated.
 */
export function createErrorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const context: ErrorContext = { procedure: `/${req.service.typeName}/${req.method.name}`, signal: req.signal };
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: translateIterable(res.message, context, logger) };
    } catch (err) {
      throw toConnectError(err, context, logger);
    }
  };
}

async function* translateIterable<T>(
  iterable: AsyncIterable<T>,
  context: ErrorContext,
  logger: Logger,
): AsyncIterable<T> {
  try {
    yield* iterable;
  } catch (err) {
    throw toConnectError(err, context, logger);
  }
}
