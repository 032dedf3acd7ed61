/**
 * The error policy of the edge (protocol/error-policy.ts) as a connect-es interceptor: whatever a
 * handler of any service raises is logged once and sent in the encoding of the call's protocol.
 */
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../../core/logger.js";
import { connectErrorOf } from "../protocol/connect-error.js";
import { callerError, type ErrorContext } from "../protocol/error-policy.js";

/**
 * Translates any error a handler raises into the ConnectError sent to the client: a ConnectError
 * (raised by the protocol layer: limits, parsing, deadlines) passes through; anything else is
 * told as the edge's policy says (callerError), with mlpipe's ErrorDetail attached.
 */
export function toConnectError(err: unknown, context: ErrorContext, logger: Logger): ConnectError {
  if (err instanceof ConnectError) return err;
  return connectErrorOf(callerError(err, context, logger));
}

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
