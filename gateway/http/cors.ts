/**
 * The edge's CORS policy (CORS_ALLOWED_ORIGINS), off unless configured: a browser page on an
 * allowed origin may call every route and RPC of the server (Connect and gRPC-Web included). Its
 * preflight is answered here (204, the requested method and headers allowed, cached for 2 hours);
 * its actual requests get `Access-Control-Allow-Origin` and the protocols' response headers exposed
 * (gRPC-Web's status headers, Connect's, Retry-After, the Open Inference Protocol's binary header),
 * as connect-es's `@connectrpc/cors` lists them. Requests from other origins are served without
 * CORS headers, so browsers keep them from the page.
 */
import type { DualProtocolHandler } from "./dual-protocol-server.js";

/** Response headers a cross-origin page may read. */
const exposedHeaders = [
  "Grpc-Status",
  "Grpc-Message",
  "Grpc-Status-Details-Bin",
  "Grpc-Accept-Encoding",
  "Grpc-Encoding",
  "Connect-Accept-Encoding",
  "Connect-Content-Encoding",
  "Content-Encoding",
  "Retry-After",
  "Inference-Header-Content-Length",
].join(", ");

const allowedMethods = "GET, HEAD, POST, PUT, PATCH, DELETE";

/** Seconds a browser may cache a preflight answer. */
const preflightMaxAgeSeconds = 7200;

/**
 * Wraps `handler` with the policy: `allowedOrigins` lists origins (`https://app.example.com`) or
 * is `["*"]` for any; empty leaves `handler` as it is.
 */
export function withCors(handler: DualProtocolHandler, allowedOrigins: readonly string[]): DualProtocolHandler {
  if (allowedOrigins.length === 0) return handler;
  const any = allowedOrigins.includes("*");
  const allowed = new Set(allowedOrigins);
  return (req, res) => {
    const origin = req.headers.origin;
    if (origin === undefined || (!any && !allowed.has(origin))) {
      handler(req, res);
      return;
    }
    res.setHeader("access-control-allow-origin", any ? "*" : origin);
    if (!any) res.setHeader("vary", "Origin");
    const requestedMethod = req.headers["access-control-request-method"];
    if (req.method === "OPTIONS" && requestedMethod !== undefined) {
      const requestedHeaders = req.headers["access-control-request-headers"];
      res.writeHead(204, {
        "access-control-allow-methods": allowedMethods,
        ...(requestedHeaders === undefined ? {} : { "access-control-allow-headers": requestedHeaders }),
        "access-control-max-age": String(preflightMaxAgeSeconds),
      });
      res.end();
      return;
    }
    res.setHeader("access-control-expose-headers", exposedHeaders);
    handler(req, res);
  };
}
