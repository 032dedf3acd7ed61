/**
 * The plain HTTP routes of the registry port, beside its RPCs: GET /metrics (Prometheus text),
 * /health (status and database reachability), /health/live (the process answers: Kubernetes'
 * liveness probe) and /health/ready (the database answers: readiness; 503 otherwise). The bodies
 * are those of the inference server's routes of the same names.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Registry } from "prom-client";
import { commonErrors, errorJsonBody, httpStatusOf } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import type { Readiness } from "../health/readiness.js";

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

/** Answers a request when it is one of these routes; false lets the caller route it to the RPC handler. */
export type RegistryHttpRoutes = (req: Request, res: Response) => boolean;

/** Options of {@link createRegistryHttpRoutes}. */
export interface RegistryHttpRoutesOptions {
  /** What /metrics serves. */
  readonly metrics: Registry;
  /** Serving while the metadata database answers (database-readiness.ts). */
  readonly readiness: Readiness;
  readonly logger: Logger;
}

/** Seconds a client is told to wait (Retry-After) while not ready. */
const retryAfterSeconds = 1;

function send(res: Response, status: number, body: string, headers: Record<string, string>): void {
  res.writeHead(status, { "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

function sendJson(res: Response, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, JSON.stringify(body), { "content-type": "application/json", ...headers });
}

/** Creates the routes. */
export function createRegistryHttpRoutes(options: RegistryHttpRoutesOptions): RegistryHttpRoutes {
  const { metrics, readiness, logger } = options;
  const routes: Record<string, (res: Response) => void | Promise<void>> = {
    "/metrics": async (res) => {
      send(res, 200, await metrics.metrics(), { "content-type": metrics.contentType });
    },
    "/health": (res) =>
      sendJson(res, readiness.serving ? 200 : 503, {
        status: readiness.serving ? "healthy" : "unavailable",
        database: readiness.serving ? "reachable" : "unreachable",
      }),
    "/health/live": (res) => sendJson(res, 200, { status: "alive" }),
    "/health/ready": (res) =>
      readiness.serving
        ? sendJson(res, 200, { status: "ready" })
        : sendJson(res, 503, { status: "not_ready" }, { "retry-after": String(retryAfterSeconds) }),
  };
  return (req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    const route = routes[path];
    // RPCs are POSTs to /<service>/<method>: they never use these paths.
    if (route === undefined) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      const err = commonErrors.notFoundRoute(`${req.method ?? ""} ${path}`);
      sendJson(res, httpStatusOf(err), errorJsonBody(err));
      return true;
    }
    Promise.resolve()
      .then(() => route(res))
      .catch((err: unknown) => {
        logger.error({ err, path }, "registry observability route failed");
        const internal = commonErrors.internal(err);
        if (!res.headersSent) sendJson(res, httpStatusOf(internal), errorJsonBody(internal));
        else res.end();
      });
    return true;
  };
}
