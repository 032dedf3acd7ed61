/**
 * The health and metrics routes every mlpipe server answers on its HTTP port, with the same
 * bodies: GET /health (status plus what the server adds, 503 while not ready), /health/live (the
 * process answers: Kubernetes' liveness probe), /health/ready (readiness: 200, or 503 with
 * Retry-After) and /metrics (Prometheus text of its registry).
 */
import { retryAfterSeconds, sendJson } from "../protocol-json/json-response.js";
import type { JsonRouteTable } from "../protocol-json/json-router.js";
import type { Readiness } from "./readiness.js";

/**
 * What /metrics serves: a prom-client Registry, or the metrics of several processes aggregated
 * (app/inference-cluster.ts: a cluster worker asks its primary for every process's metrics).
 */
export interface MetricsExposition {
  /** The Prometheus text exposition. */
  metrics(): Promise<string>;
  /** Its Content-Type. */
  readonly contentType: string;
}

/** Options of {@link healthRoutes}. */
export interface HealthRoutesOptions {
  /** Serving or not: /health's status code and /health/ready. */
  readonly readiness: Readiness;
  /** What /metrics serves. */
  readonly metrics: MetricsExposition;
  /** Fields /health adds beside its `status` (e.g. the model served, the database's reachability). */
  readonly details?: () => Readonly<Record<string, unknown>>;
}

/** The four routes, to spread into a {@link JsonRouteTable}. */
export function healthRoutes(options: HealthRoutesOptions): JsonRouteTable {
  const { readiness, metrics, details } = options;
  return {
    "/health": {
      GET: (_req, res) =>
        sendJson(res, readiness.serving ? 200 : 503, {
          status: readiness.serving ? "healthy" : "unavailable",
          ...details?.(),
        }),
    },
    "/health/live": { GET: (_req, res) => sendJson(res, 200, { status: "alive" }) },
    "/health/ready": {
      GET: (_req, res) =>
        readiness.serving
          ? sendJson(res, 200, { status: "ready" })
          : sendJson(res, 503, { status: "not_ready" }, { "retry-after": String(retryAfterSeconds) }),
    },
    "/metrics": {
      GET: async (_req, res) => {
        const text = await metrics.metrics();
        res.writeHead(200, { "content-type": metrics.contentType, "content-length": Buffer.byteLength(text) });
        res.end(text);
      },
    },
  };
}
