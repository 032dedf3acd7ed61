/**
 * The one router of the edge's plain HTTP routes (JSON APIs, health, metrics, docs): a table of
 * exact paths, each with a handler per method, answered with the edge's error policy. A path that
 * is not in the table is left to the next route (false), so the RPC handler behind still sees
 * every gRPC, gRPC-Web and Connect call; a path in the table asked with a method it lacks is
 * ROUTE_NOT_FOUND. HEAD is served by the GET handler (Node drops the body of a HEAD answer).
 *
 * A request with a body (POST, PUT, PATCH) must say `Content-Type: application/json`; anything
 * else, no content type included, is UNSUPPORTED_MEDIA_TYPE (415) unread. The types a browser may
 * send across origins without a CORS preflight (text/plain, form encodings) are thereby refused,
 * so a page of another origin cannot make a visitor's browser post to these routes.
 */
import { commonErrors } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import { type HttpRequest, type HttpResponse, type HttpRoute, requestPath } from "../http/http-route.js";
import { parseContentType } from "../protocol/content-type.js";
import { callerError } from "../protocol/error-policy.js";
import { sendJsonError } from "./json-response.js";

/** Answers one route; what it throws or rejects with is answered as a JSON error. */
export type JsonHandler = (req: HttpRequest, res: HttpResponse) => void | Promise<void>;

/** HTTP methods a route may answer. */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Methods whose request carries a body, which must be JSON. */
const bodyMethods: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH"]);

/** True for `application/json`, with or without parameters (`; charset=utf-8`). */
function isJson(contentType: string | undefined): boolean {
  const parsed = parseContentType(contentType);
  return parsed !== undefined && !parsed.enveloped && parsed.codec === "json";
}

/** Path -> method -> handler. */
export type JsonRouteTable = Readonly<Record<string, Partial<Record<HttpMethod, JsonHandler>>>>;

/** Options of {@link createJsonRouter}. */
export interface JsonRouterOptions {
  readonly routes: JsonRouteTable;
  /** Where the error policy logs (server errors with their cause, client errors at debug). */
  readonly logger: Logger;
}

/**
 * Sends `err` (anything a handler threw) as the JSON API answers errors, after the one error
 * policy decided what the caller is told and logged it; `req` names the route in the log line.
 */
export function failJson(req: HttpRequest, res: HttpResponse, err: unknown, logger: Logger): void {
  sendJsonError(res, callerError(err, { procedure: `${req.method ?? "GET"} ${requestPath(req)}` }, logger));
}

/** Creates the route over `options.routes` (see the module comment). */
export function createJsonRouter(options: JsonRouterOptions): HttpRoute {
  const { routes, logger } = options;
  return (req, res) => {
    const path = requestPath(req);
    const route = routes[path];
    if (route === undefined) return false;
    // gRPC, gRPC-Web and Connect streaming calls never use these paths, but be explicit: leave
    // them to the RPC handler.
    if (parseContentType(req.headers["content-type"])?.enveloped === true) return false;
    const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
    const handle = route[method as HttpMethod];
    if (handle === undefined) {
      failJson(req, res, commonErrors.notFoundRoute(`${method} ${path}`), logger);
      return true;
    }
    if (bodyMethods.has(method) && !isJson(req.headers["content-type"])) {
      req.resume();
      failJson(req, res, commonErrors.unsupportedMediaType(req.headers["content-type"]), logger);
      return true;
    }
    try {
      const done = handle(req, res);
      if (done !== undefined) done.catch((err: unknown) => failJson(req, res, err, logger));
    } catch (err) {
      failJson(req, res, err, logger);
    }
    return true;
  };
}
