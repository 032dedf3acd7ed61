/**
 * Authentication of the inference server (INFERENCE_AUTH=token): the one edge function every
 * request passes before admission control and routing, on every listener (the main port and the
 * gRPC-only one) and the gRPC fast path. Permission model: any authenticated identity may call
 * every inference surface (ACCESS_AUTHENTICATED, as the proto's policy of InferenceService says);
 * there are no per-model grants on the data plane.
 *
 * Open without credentials: liveness and readiness (/health, /health/live, /health/ready,
 * /v2/health/live, /v2/health/ready, MLflow's /ping, gRPC Health), /metrics (scraped by
 * Prometheus), the API documentation (/docs, /openapi.json) and CORS preflights (OPTIONS, which
 * browsers send without credentials). Everything else, unknown paths included, needs them.
 *
 * A refusal is UNAUTHENTICATED (or AUTH_VERIFIER_UNAVAILABLE when the registry or the OIDC issuer
 * cannot be reached) in the request's protocol: the JSON error body with HTTP 401, a trailers-only
 * gRPC/gRPC-Web status, the Connect error; 401s carry `WWW-Authenticate: Bearer` (RFC 6750).
 */
import type { IncomingHttpHeaders } from "node:http";
import { authErrors, Code, commonErrors, MlpipeError } from "../../core/errors/index.js";
import type { DualProtocolHandler } from "../http/dual-protocol-server.js";
import { parseContentType } from "../protocol/content-type.js";
import {
  type EncodedError,
  type ErrorWire,
  encodeError,
  rpcErrorWire,
  sendEncodedError,
} from "../protocol/error-response.js";
import { wwwAuthenticate } from "./authentication-interceptor.js";
import type { Authenticator } from "./bearer-authenticator.js";

/** Paths served without credentials (see the file comment). */
export const inferenceOpenPaths: ReadonlySet<string> = new Set([
  "/health",
  "/health/live",
  "/health/ready",
  "/v2/health/live",
  "/v2/health/ready",
  "/ping",
  "/metrics",
  "/docs",
  "/docs/openapi.json",
  "/openapi.json",
  "/grpc.health.v1.Health/Check",
  "/grpc.health.v1.Health/Watch",
  "/grpc.health.v1.Health/List",
]);

/** An RPC procedure path, "/package.Service/Method", as opposed to a JSON route. */
const procedurePath = /^\/[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+\/[A-Za-z_]\w*$/;

/** Headers of a Node request as a fetch Headers (what an Authenticator reads); pseudo-headers left out. */
export function headersOf(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  const authorization = incoming.authorization;
  if (authorization !== undefined) headers.set("authorization", authorization);
  return headers;
}

/**
 * Authenticates a request's headers: resolves when it may proceed, or to the MlpipeError it is
 * refused with (AUTH_UNAUTHENTICATED without credentials).
 */
export async function requireIdentity(
  authenticate: Authenticator,
  headers: IncomingHttpHeaders,
): Promise<MlpipeError | undefined> {
  try {
    const identity = await authenticate(headersOf(headers));
    return identity === undefined ? authErrors.unauthenticated() : undefined;
  } catch (err) {
    return err instanceof MlpipeError ? err : commonErrors.internal(err);
  }
}

/** The answer refusing a request with `err` on `wire`, with the Bearer challenge on a 401. */
export function authenticationRefusal(err: MlpipeError, wire: ErrorWire): EncodedError {
  const encoded = encodeError(err, wire);
  if (err.code !== Code.Unauthenticated) return encoded;
  return { ...encoded, headers: { ...encoded.headers, "www-authenticate": wwwAuthenticate } };
}

/** Wraps `handler` so that every request but the open ones is authenticated first. */
export function withAuthentication(handler: DualProtocolHandler, authenticate: Authenticator): DualProtocolHandler {
  return (req, res) => {
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const path = query < 0 ? url : url.slice(0, query);
    if (req.method === "OPTIONS" || inferenceOpenPaths.has(path)) {
      handler(req, res);
      return;
    }
    requireIdentity(authenticate, req.headers).then((refusal) => {
      if (refusal === undefined) {
        handler(req, res);
        return;
      }
      const contentType = req.headers["content-type"];
      const type = parseContentType(contentType);
      const wire =
        procedurePath.test(path) || (type !== undefined && type.protocol !== "connect") ? rpcErrorWire(type) : "json";
      // Nothing of the body is read: discard whatever arrives.
      req.resume();
      sendEncodedError(res, authenticationRefusal(refusal, wire), contentType ?? "application/json");
    });
  };
}
