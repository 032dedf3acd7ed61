/** What the console's HTTP routes on the registry port share: their signature and error answer. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { httpStatusOf } from "../../core/errors/http-status.js";
import { errorJsonBody, type MlpipeError } from "../../core/errors/mlpipe-error.js";

/** A request of either HTTP version (the registry listens for both on one port). */
export type HttpRequest = IncomingMessage | Http2ServerRequest;
/** A response of either HTTP version. */
export type HttpResponse = ServerResponse | Http2ServerResponse;

/**
 * Answers a request when it is one of its paths and returns true; returns false without touching
 * the response otherwise, so the caller passes the request on (to the RPC handler).
 */
export type ConsoleRoute = (req: HttpRequest, res: HttpResponse) => boolean;

/** Answers `err` as JSON routes do: `{"error": {...}}` with the status of httpStatusOf. */
export function sendJsonError(res: HttpResponse, err: MlpipeError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify(errorJsonBody(err));
  res.writeHead(httpStatusOf(err), {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    "cache-control": "no-store",
  });
  res.end(body);
}

/** The first route that answers, else `fallback`. */
export function withConsoleRoutes(
  routes: readonly ConsoleRoute[],
  fallback: (req: HttpRequest, res: HttpResponse) => void,
): (req: HttpRequest, res: HttpResponse) => void {
  return (req, res) => {
    for (const route of routes) if (route(req, res)) return;
    fallback(req, res);
  };
}

/** Ends the response with `body`, or without one for a HEAD request (its headers announce the GET's). */
export function endBody(req: HttpRequest, res: HttpResponse, body: Buffer): void {
  if (req.method === "HEAD") res.end();
  else res.end(body);
}
