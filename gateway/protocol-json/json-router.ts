/**
 * The one router of the edge's plain HTTP routes (JSON APIs, health, metrics, docs, the MLflow
 * REST dialect): a table of paths, each with a handler per method, answered with the edge's error
 * policy. A path is exact, or a prefix when its key ends in `/*` (the handler reads the rest of
 * the path itself; the longest matching prefix wins). A path that matches nothing is left to the
 * next route (false), so the RPC handler behind still sees every gRPC, gRPC-Web and Connect call,
 * unless it lies under one of the router's `ownedPrefixes`; a path asked with a method it lacks,
 * or an owned one that matches nothing, is ROUTE_NOT_FOUND. HEAD is served by the GET handler
 * (Node drops the body of a HEAD answer).
 */
import { commonErrors } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import { type HttpRequest, type HttpResponse, type HttpRoute, requestPath } from "../http/http-route.js";
import { parseContentType } from "../protocol/content-type.js";
import { callerError } from "../protocol/error-policy.js";
import { type JsonErrorEncoder, jsonErrorResponse, sendJsonError } from "./json-response.js";

/** Answers one route; what it throws or rejects with is answered as a JSON error. */
export type JsonHandler = (req: HttpRequest, res: HttpResponse) => void | Promise<void>;

/** HTTP methods a route may answer. */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Path (or `prefix/*`) -> method -> handler. */
export type JsonRouteTable = Readonly<Record<string, Partial<Record<HttpMethod, JsonHandler>>>>;

/** Options of {@link createJsonRouter}. */
export interface JsonRouterOptions {
  readonly routes: JsonRouteTable;
  /** Where the error policy logs (server errors with their cause, client errors at debug). */
  readonly logger: Logger;
  /** The error encoding of the routes' dialect; default mlpipe's JSON API (jsonErrorResponse). */
  readonly encodeError?: JsonErrorEncoder;
  /**
   * Path prefixes (ending in `/`) the router answers in full: a path under one that no route
   * matches is ROUTE_NOT_FOUND in the router's encoding, not passed on. Default none.
   */
  readonly ownedPrefixes?: readonly string[];
}

/**
 * Sends `err` (anything a handler threw) as the JSON API answers errors, after the one error
 * policy decided what the caller is told and logged it; `req` names the route in the log line.
 * `encode` picks the dialect (default mlpipe's JSON API).
 */
export function failJson(
  req: HttpRequest,
  res: HttpResponse,
  err: unknown,
  logger: Logger,
  encode: JsonErrorEncoder = jsonErrorResponse,
): void {
  sendJsonError(res, callerError(err, { procedure: `${req.method ?? "GET"} ${requestPath(req)}` }, logger), encode);
}

/** Creates the route over `options.routes` (see the module comment). */
export function createJsonRouter(options: JsonRouterOptions): HttpRoute {
  const { routes, logger } = options;
  const encode = options.encodeError ?? jsonErrorResponse;
  const owned = options.ownedPrefixes ?? [];
  // Prefix routes, longest first, without their `*`.
  const prefixes = Object.keys(routes)
    .filter((key) => key.endsWith("/*"))
    .map((key) => ({ prefix: key.slice(0, -1), route: routes[key] }))
    .sort((a, b) => b.prefix.length - a.prefix.length);
  const find = (path: string) => routes[path] ?? prefixes.find((p) => path.startsWith(p.prefix))?.route;
  return (req, res) => {
    const path = requestPath(req);
    const route = find(path);
    if (route === undefined && !owned.some((prefix) => path.startsWith(prefix))) return false;
    // gRPC, gRPC-Web and Connect streaming calls never use these paths, but be explicit: leave
    // them to the RPC handler.
    if (parseContentType(req.headers["content-type"])?.enveloped === true) return false;
    const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
    const handle = route?.[method as HttpMethod];
    if (handle === undefined) {
      failJson(req, res, commonErrors.notFoundRoute(`${method} ${path}`), logger, encode);
      return true;
    }
    try {
      const done = handle(req, res);
      if (done !== undefined) done.catch((err: unknown) => failJson(req, res, err, logger, encode));
    } catch (err) {
      failJson(req, res, err, logger, encode);
    }
    return true;
  };
}
