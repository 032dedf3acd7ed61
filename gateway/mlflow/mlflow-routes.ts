/**
 * MLflow's REST API 2.0 on the registry port, as `mlflow server --serve-artifacts` answers it:
 * the tracking and registry endpoints below `/api/2.0/mlflow/` (also `/ajax-api/2.0/mlflow/`,
 * the prefix MLflow's web UI calls), the artifact proxy below `/api/2.0/mlflow-artifacts/` and
 * `GET /version`. One route over the JSON router with MLflow's error encoding: a path under
 * those prefixes that names no endpoint is MLflow's `ENDPOINT_NOT_FOUND`, never passed on to the
 * RPC handler. Every endpoint calls the same service implementations the Connect router serves.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import { methodPolicy } from "../../auth/method-policy.js";
import { authErrors } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import { Access } from "../../gen/mlpipe/auth/v1/policy_pb.js";
import type { RegistryService } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import type { TrackingService } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import type { Authenticator } from "../auth/bearer-authenticator.js";
import type { HttpRoute } from "../http/http-route.js";
import { createJsonRouter, type JsonHandler, type JsonRouteTable } from "../protocol-json/json-router.js";
import type { BodyLimits } from "../protocol-json/request-body.js";
import { createArtifactLocations } from "./artifact-locations.js";
import { mlflowArtifactRoutes } from "./artifact-routes.js";
import { endpointMethodOf, setRequestIdentity, webHeaders } from "./mlflow-call.js";
import { mlflowErrorResponse } from "./mlflow-error.js";
import { mlflowRegistryRoutes } from "./registry-routes.js";
import { mlflowTrackingRoutes } from "./tracking-routes.js";

/**
 * The MLflow release whose REST API this surface follows, answered by `GET /version` (MLflow's
 * server answers its own release there; clients that gate features on it see this one).
 */
export const mlflowApiVersion = "2.16.0";

/** The prefixes the tracking and registry endpoints are served under. */
export const mlflowApiPrefixes = ["/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"] as const;

/** Options of {@link createMlflowRoute}. */
export interface MlflowRouteOptions {
  /** The TrackingService implementation the Connect router serves (with whatever wraps it). */
  readonly tracking: ServiceImpl<typeof TrackingService>;
  /** The RegistryService implementation the Connect router serves (with whatever wraps it). */
  readonly registry: ServiceImpl<typeof RegistryService>;
  /** The artifact store's root URI: locations under it are shown as `mlflow-artifacts:/...`. */
  readonly artifactRootUri: string;
  /** Largest JSON request body in bytes (MAX_REQUEST_BYTES); artifact uploads stream and are not bound by it. */
  readonly maxRequestBytes: number;
  /**
   * Longest a JSON request body may take to arrive, in ms (REQUEST_READ_TIMEOUT_MS): a body
   * shorter than its Content-Length or trickled in is answered 408 rather than held open.
   */
  readonly requestReadTimeoutMs: number;
  readonly logger: Logger;
  /**
   * The edge's authenticator when auth is on (REGISTRY_AUTH=token): each request's identity goes
   * into its calls' contexts, for the guard around `tracking` and `registry`, as on Connect and gRPC.
   */
  readonly authenticate?: Authenticator | undefined;
}

/**
 * `handler`, run once the request's credentials are turned into its identity. A caller without
 * credentials is refused (401) right there when the RPC the route calls is not public, as its
 * guard would refuse the call: before the route reads its parameters, so that an anonymous caller
 * gets 401 rather than a 400 about them (and learns nothing of what the route checks).
 */
function authenticated(authenticate: Authenticator, handler: JsonHandler): JsonHandler {
  const method = endpointMethodOf(handler);
  const needsIdentity = method !== undefined && methodPolicy(method)?.access !== Access.PUBLIC;
  return async (req, res, params) => {
    const identity = await authenticate(webHeaders(req));
    if (identity === undefined && needsIdentity) throw authErrors.unauthenticated();
    setRequestIdentity(req, identity);
    await handler(req, res, params);
  };
}

/**
 * Every endpoint of the surface by full path and HTTP method, as served before authentication:
 * what {@link createMlflowRoute} routes, and what the authorization matrix walks (each handler's
 * RPC is `endpointMethodOf(handler)`, mlflow-call.ts).
 */
export function mlflowRouteTable(
  options: Pick<
    MlflowRouteOptions,
    "tracking" | "registry" | "artifactRootUri" | "maxRequestBytes" | "requestReadTimeoutMs"
  >,
): JsonRouteTable {
  const { tracking, registry } = options;
  const locations = createArtifactLocations(options.artifactRootUri);
  const body: BodyLimits = { maxBytes: options.maxRequestBytes, timeoutMs: options.requestReadTimeoutMs };
  const endpoints: JsonRouteTable = {
    ...mlflowTrackingRoutes({ tracking, locations, body }),
    ...mlflowRegistryRoutes({ tracking, registry, locations, body }),
  };
  const routes: Record<string, JsonRouteTable[string]> = {
    ...mlflowArtifactRoutes({ tracking, registry, locations }),
    "/version": {
      GET: (_req, res) => {
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
        res.end(mlflowApiVersion);
      },
    },
  };
  for (const prefix of mlflowApiPrefixes) {
    for (const [path, route] of Object.entries(endpoints)) routes[`${prefix}${path}`] = route;
  }
  return routes;
}

/** Creates the route of the MLflow REST surface (see the module comment). */
export function createMlflowRoute(options: MlflowRouteOptions): HttpRoute {
  const routes: Record<string, JsonRouteTable[string]> = { ...mlflowRouteTable(options) };
  const authenticate = options.authenticate;
  if (authenticate !== undefined) {
    for (const [path, methods] of Object.entries(routes)) {
      routes[path] = Object.fromEntries(
        Object.entries(methods).map(([method, handler]) => [method, authenticated(authenticate, handler)]),
      );
    }
  }
  return createJsonRouter({
    routes,
    logger: options.logger.child({ component: "mlflow" }),
    encodeError: mlflowErrorResponse,
    ownedPrefixes: [...mlflowApiPrefixes, "/api/2.0/mlflow-artifacts/"],
  });
}
