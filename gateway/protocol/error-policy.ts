/**
 * The one policy every protocol of the edge applies to what a handler threw, before encoding it
 * in its own wire format: which error the caller is told, and how it is logged (once, here).
 *
 * - An MlpipeError is told as it is. INTERNAL and UNKNOWN ones are logged as errors with their
 *   cause; UNAVAILABLE ones (a database or artifact store down, a server draining) and any other
 *   that carries a cause (a dependency refusing the server, e.g. BLOB_STORE_ACCESS_DENIED for wrong
 *   S3 credentials: an operator must see it) are warned with their cause; every other code is the
 *   client's mistake or choice and goes to the debug log.
 * - Anything else after the client went away is CANCELED (debug).
 * - Anything else (a constraint violation a store did not map, a bug) becomes INTERNAL "internal
 *   error", so no internals leak, and is logged as an error with the real cause.
 */
import { Code, commonErrors, MlpipeError } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";

/** What is known of the call an error belongs to, for the log line. */
export interface ErrorContext {
  /** The RPC ("/mlpipe.tracking.v1.TrackingService/GetRun") or route ("POST /predict"). */
  readonly procedure: string;
  /** The call's signal, when it has one: an unexpected error after the client left is a cancellation. */
  readonly signal?: { readonly aborted: boolean } | undefined;
}

/** The error the caller of `context` is told for `err`, logged as the module comment says. */
export function callerError(err: unknown, context: ErrorContext, logger: Logger): MlpipeError {
  const { procedure } = context;
  if (err instanceof MlpipeError) {
    if (err.code === Code.Internal || err.code === Code.Unknown) {
      logger.error({ err: err.cause ?? err, procedure, id: err.id }, err.message);
    } else if (err.code === Code.Unavailable || err.cause !== undefined) {
      logger.warn({ err: err.cause ?? err, procedure, id: err.id }, err.message);
    } else if (logger.isLevelEnabled("debug")) {
      logger.debug({ procedure, id: err.id, field: err.field }, err.message);
    }
    return err;
  }
  if (context.signal?.aborted === true) {
    logger.debug({ err, procedure }, "call canceled");
    return commonErrors.canceled();
  }
  logger.error({ err, procedure }, "unexpected error in handler");
  return commonErrors.internal(err);
}
