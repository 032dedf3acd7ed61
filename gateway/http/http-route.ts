/**
 * What every plain HTTP route of the edge looks like (JSON routes, health and metrics, the web
 * console's files): it answers the requests that are its own and returns true, or returns false
 * without touching the response so the caller passes the request on (in the end, to the RPCs).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

/** A request of either HTTP version (every listener serves both on one port). */
export type HttpRequest = IncomingMessage | Http2ServerRequest;
/** A response of either HTTP version. */
export type HttpResponse = ServerResponse | Http2ServerResponse;

/** Answers a request that is its own (true), or leaves it alone (false). */
export type HttpRoute = (req: HttpRequest, res: HttpResponse) => boolean;

/** A handler of its own that tries `routes` in order and gives what none answers to `fallback`. */
export function withRoutes(
  routes: readonly HttpRoute[],
  fallback: (req: HttpRequest, res: HttpResponse) => void,
): (req: HttpRequest, res: HttpResponse) => void {
  return (req, res) => {
    for (const route of routes) if (route(req, res)) return;
    fallback(req, res);
  };
}

/** The path of a request's URL, without its query. */
export function requestPath(req: HttpRequest): string {
  const url = req.url ?? "/";
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
}

/** Ends the response with `body`, or without one for a HEAD request (its headers announce the GET's). */
export function endBody(req: HttpRequest, res: HttpResponse, body: Uint8Array): void {
  if (req.method === "HEAD") res.end();
  else res.end(body);
}
