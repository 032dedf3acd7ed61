/**
 * The call context of a JSON route that predicts (mlpipe's /predict, the Open Inference Protocol's
 * /infer, MLflow's /invocations): protocol "http", its arrival, the deadline of its timeout headers
 * and a cancellation that fires when the client goes away before the answer is written.
 */
import { commonErrors, type MlpipeError } from "../../core/errors/index.js";
import { Cancellation } from "../../server/batching/cancellation.js";
import type { CallContext } from "../../server/call-context.js";
import type { HttpRequest, HttpResponse } from "../http/http-route.js";
import { parseDeadlineHeaders } from "./deadline-headers.js";

/** A JSON prediction call in progress. */
export interface JsonCall {
  readonly context: CallContext;
  /** The error a malformed timeout header is, to be answered inside the call (so it is counted). */
  readonly timeoutError: MlpipeError | undefined;
  /** Stops watching the client once the call is answered. */
  finish(): void;
}

/** Starts a JSON prediction call on `req`/`res` (see the module comment). */
export function beginJsonCall(req: HttpRequest, res: HttpResponse): JsonCall {
  const receivedAt = performance.now();
  const cancellation = new Cancellation();
  const onClose = (): void => {
    if (!res.writableFinished) cancellation.cancel(commonErrors.canceled());
  };
  res.once("close", onClose);
  const timeout = parseDeadlineHeaders(req.headers, receivedAt);
  return {
    context: { protocol: "http", receivedAt, signal: cancellation, deadline: timeout.deadline },
    timeoutError: timeout.error,
    finish: () => res.off("close", onClose),
  };
}
