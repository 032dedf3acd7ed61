/**
 * How an MLflow REST request calls the service implementations: with a connect-es HandlerContext
 * made from the HTTP request (its headers, URL, method, the deadline its `X-Request-Timeout-Ms`
 * or `Connect-Timeout-Ms` header sets, and a signal that aborts when the client goes away), so
 * that an implementation, or a wrapper around it (authorization reads the request headers and
 * keeps the identity in the context values), cannot tell this surface from Connect or gRPC. The
 * context is aborted once the request is answered, as connect-node does after every call.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { createHandlerContext, type HandlerContext } from "@connectrpc/connect";
import type { Identity } from "../../auth/identity.js";
import { identityKey } from "../../auth/identity-context.js";
import { commonErrors } from "../../core/errors/index.js";
import type { HttpRequest, HttpResponse } from "../http/http-route.js";
import { parseDeadlineHeaders } from "../protocol-json/deadline-headers.js";
import { sendJson } from "../protocol-json/json-response.js";
import type { JsonHandler } from "../protocol-json/json-router.js";
import type { BodyLimits } from "../protocol-json/request-body.js";
import { type MlflowParams, readMlflowParams } from "./mlflow-params.js";
import { compact } from "./tracking-json.js";

/** The `protocolName` of the contexts this surface makes. */
export const mlflowProtocolName = "mlflow-rest";

/**
 * The identity each request authenticated as (set by the route before its handler runs, see
 * mlflow-routes.ts): the contexts made for the request carry it, for the authorization guard.
 */
const requestIdentities = new WeakMap<HttpRequest, Identity>();

/** Records the identity `req` authenticated as; its calls' contexts carry it. */
export function setRequestIdentity(req: HttpRequest, identity: Identity | undefined): void {
  if (identity === undefined) requestIdentities.delete(req);
  else requestIdentities.set(req, identity);
}

/** The request's headers as a Headers object (HTTP/2 pseudo-headers left out). */
export function webHeaders(req: HttpRequest): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  return headers;
}

/**
 * A handler context for one call of `method` made by `req`. Its signal aborts when the client
 * disconnects before `res` is finished, or when the request's deadline passes; call `abort()`
 * once the request is answered.
 */
export function mlflowHandlerContext(
  req: HttpRequest,
  res: HttpResponse,
  method: DescMethod,
): HandlerContext & { abort(reason?: unknown): void } {
  const { deadline, error } = parseDeadlineHeaders(req.headers, performance.now());
  if (error !== undefined) throw error;
  const clientGone = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) clientGone.abort(commonErrors.canceled());
  });
  const ctx = createHandlerContext({
    service: method.parent,
    method,
    protocolName: mlflowProtocolName,
    requestMethod: req.method ?? "GET",
    url: req.url ?? "/",
    requestHeader: webHeaders(req),
    requestSignal: clientGone.signal,
    ...(deadline === undefined ? {} : { timeoutMs: Math.max(1, Math.round(deadline - performance.now())) }),
  });
  ctx.values.set(identityKey, requestIdentities.get(req));
  return ctx;
}

/**
 * The RPC each route handler calls (its authorization follows that method's policy), for the
 * authorization matrix, which derives each route's expected answers from it (auth-matrix.int.test.ts).
 */
const endpointMethods = new WeakMap<JsonHandler, DescMethod>();

/** Records that `handler` serves its route by calling `method`; returns `handler`. */
export function callingMethod(method: DescMethod, handler: JsonHandler): JsonHandler {
  endpointMethods.set(handler, method);
  return handler;
}

/** The RPC a route handler made by {@link mlflowEndpoint} or {@link callingMethod} calls; undefined for any other handler. */
export function endpointMethodOf(handler: JsonHandler): DescMethod | undefined {
  return endpointMethods.get(handler);
}

/** One MLflow endpoint: its parameters and the call's context in, the JSON answer out. */
export type MlflowEndpoint = (params: MlflowParams, ctx: HandlerContext) => Promise<Record<string, unknown>>;

/**
 * The route handler of an endpoint that calls `method`: reads the parameters (bodies within
 * `body`'s size and time), calls `endpoint` with a context made for it, and answers 200 with its
 * JSON. What it throws goes to the router's error policy and MLflow's error encoding.
 */
export function mlflowEndpoint(method: DescMethod, body: BodyLimits, endpoint: MlflowEndpoint): JsonHandler {
  return callingMethod(method, async (req, res) => {
    const ctx = mlflowHandlerContext(req, res, method);
    try {
      const params = await readMlflowParams(req, body);
      // As MLflow's message_to_json writes answers: empty lists left out.
      sendJson(res, 200, compact(await endpoint(params, ctx)));
    } catch (err) {
      // A deadline that passed mid-call is the deadline's error, whatever the call made of the abort.
      if (ctx.signal.aborted && ctx.timeoutMs() !== undefined && (ctx.timeoutMs() ?? 1) <= 0) {
        throw commonErrors.deadlineExceeded();
      }
      throw err;
    } finally {
      ctx.abort();
    }
  });
}
