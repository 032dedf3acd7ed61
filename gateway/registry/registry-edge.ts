/**
 * The network edge of the tracking + registry server: TrackingService, RegistryService and
 * grpc.health.v1.Health over connect-node (gRPC, gRPC-Web, Connect JSON and binary), with the
 * edge's error policy, request size limit and malformed-request handling
 * (protocol-connect/connect-handler.ts) and the RPC metrics interceptor; beside them the plain
 * HTTP routes /metrics, /health, /health/live and /health/ready. What a listener
 * (http/dual-protocol-server.ts) serves; app/registry-server.ts composes it with the stores.
 */
import { createContextValues, type Interceptor, type ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "../../core/logger.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { AuthService } from "../../gen/mlpipe/auth/v1/auth_pb.js";
import { RegistryService } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { TrackingService } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { clientCertificateKey } from "../auth/client-certificate.js";
import { createHealthService } from "../health/grpc-health-service.js";
import { healthRoutes } from "../health/health-routes.js";
import type { Readiness } from "../health/readiness.js";
import type { DualProtocolHandler } from "../http/dual-protocol-server.js";
import { type HttpRoute, withRoutes } from "../http/http-route.js";
import { verifiedPeerName } from "../http/tls-peer.js";
import { createConnectHandler } from "../protocol-connect/connect-handler.js";
import { createJsonRouter } from "../protocol-json/json-router.js";
import type { RegistryMetrics } from "./registry-metrics.js";

/** Options of {@link createRegistryEdge}. */
export interface RegistryEdgeOptions {
  readonly tracking: ServiceImpl<typeof TrackingService>;
  readonly registry: ServiceImpl<typeof RegistryService>;
  /** RPC counting (its interceptor) and what /metrics serves. */
  readonly metrics: RegistryMetrics;
  /** Serving while the metadata database answers: /health/ready and grpc.health.v1. */
  readonly readiness: Readiness;
  /** More plain HTTP routes tried, in order, before the RPCs (the web console's). */
  readonly routes?: readonly HttpRoute[];
  /** Largest request message in bytes (MAX_REQUEST_BYTES): a unary body, or each message of a stream. */
  readonly maxRequestBytes: number;
  /** Longest the body of a unary or server-streaming call may take to arrive, in ms (REQUEST_READ_TIMEOUT_MS); default 0: no bound. */
  readonly requestReadTimeoutMs?: number;
  readonly logger: Logger;
  /**
   * Authentication (REGISTRY_AUTH=token): the AuthService to serve and the interceptor that puts
   * each call's identity in its context. The tracking and registry implementations passed in
   * are then the guarded ones (auth/guard-service.ts). Undefined: no authentication.
   */
  readonly auth?: {
    readonly service: ServiceImpl<typeof AuthService>;
    readonly interceptor: Interceptor;
  };
}

/** Creates the request handler of the tracking and registry services. */
export function createRegistryEdge(options: RegistryEdgeOptions): DualProtocolHandler {
  const { metrics, readiness, logger } = options;
  const http = createJsonRouter({
    routes: healthRoutes({
      readiness,
      metrics: metrics.registry,
      details: () => ({ database: readiness.serving ? "reachable" : "unreachable" }),
    }),
    logger,
  });
  const rpc = createConnectHandler({
    routes: (router) => {
      router.service(TrackingService, options.tracking);
      router.service(RegistryService, options.registry);
      if (options.auth !== undefined) router.service(AuthService, options.auth.service);
      router.service(Health, createHealthService(readiness, [TrackingService.typeName, RegistryService.typeName]));
    },
    interceptors: options.auth === undefined ? [metrics.interceptor] : [metrics.interceptor, options.auth.interceptor],
    maxRequestBytes: options.maxRequestBytes,
    ...(options.requestReadTimeoutMs === undefined ? {} : { requestReadTimeoutMs: options.requestReadTimeoutMs }),
    logger,
    // With authentication on, a verified TLS client certificate is a credential (mutual TLS).
    contextValues:
      options.auth === undefined
        ? undefined
        : (req) => createContextValues().set(clientCertificateKey, verifiedPeerName(req)),
  });
  return withRoutes([http, ...(options.routes ?? [])], rpc);
}
