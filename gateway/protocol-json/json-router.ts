/**
 * The one router of the edge's plain HTTP routes (JSON APIs, health, metrics, docs): a table of
 * paths, each with a handler per method, answered with the edge's error policy. A path is exact
 * ("/predict") or has parameters in braces ("/v2/models/{name}/infer", one whole segment each,
 * percent-decoded); exact paths are looked up first, in one map lookup, so the hot routes pay
 * nothing for the patterns. A path that matches nothing is left to the next route (false), so the
 * RPC handler behind still sees every gRPC, gRPC-Web and Connect call; a path in the table asked
 * with a method it lacks is ROUTE_NOT_FOUND. HEAD is served by the GET handler (Node drops the
 * body of a HEAD answer).
 */
import { commonErrors, type MlpipeError } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import { type HttpRequest, type HttpResponse, type HttpRoute, requestPath } from "../http/http-route.js";
import { parseContentType } from "../protocol/content-type.js";
import { callerError } from "../protocol/error-policy.js";
import { type JsonErrorBody, sendJsonError } from "./json-response.js";

/** The values of a route's path parameters by name ({} for an exact path). */
export type RouteParams = Readonly<Record<string, string>>;

/** Answers one route; what it throws or rejects with is answered as a JSON error. */
export type JsonHandler = (req: HttpRequest, res: HttpResponse, params: RouteParams) => void | Promise<void>;

/** HTTP methods a route may answer. */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Path (exact, or with `{param}` segments) -> method -> handler. */
export type JsonRouteTable = Readonly<Record<string, Partial<Record<HttpMethod, JsonHandler>>>>;

/** Options of {@link createJsonRouter}. */
export interface JsonRouterOptions {
  readonly routes: JsonRouteTable;
  /** Where the error policy logs (server errors with their cause, client errors at debug). */
  readonly logger: Logger;
  /** The body of an error answer; default mlpipe's `{"error": {"code", "id", "message", "field"}}`. */
  readonly errorBody?: JsonErrorBody | undefined;
}

/**
 * Sends `err` (anything a handler threw) as the JSON API answers errors, after the one error
 * policy decided what the caller is told and logged it; `req` names the route in the log line.
 * `errorBody` shapes the body for a dialect with its own (the Open Inference Protocol's).
 */
export function failJson(
  req: HttpRequest,
  res: HttpResponse,
  err: unknown,
  logger: Logger,
  errorBody?: JsonErrorBody,
): void {
  const told: MlpipeError = callerError(err, { procedure: `${req.method ?? "GET"} ${requestPath(req)}` }, logger);
  sendJsonError(res, told, errorBody);
}

/** A path with parameters, split into its segments: literal text, or the name of a parameter. */
interface PathPattern {
  readonly segments: readonly ({ readonly literal: string } | { readonly param: string })[];
  readonly methods: Partial<Record<HttpMethod, JsonHandler>>;
}

function compile(path: string, methods: Partial<Record<HttpMethod, JsonHandler>>): PathPattern {
  const segments = path.split("/").map((s) => {
    const param = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(s)?.[1];
    return param === undefined ? { literal: s } : { param };
  });
  return { segments, methods };
}

/** The parameters of `path` under `pattern`, or undefined when it does not match (or a segment is not valid percent-encoding). */
function matchPattern(pattern: PathPattern, parts: readonly string[]): RouteParams | undefined {
  if (parts.length !== pattern.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const segment = pattern.segments[i];
    const part = parts[i] ?? "";
    if (segment === undefined) return undefined;
    if ("literal" in segment) {
      if (segment.literal !== part) return undefined;
      continue;
    }
    if (part === "") return undefined;
    try {
      params[segment.param] = decodeURIComponent(part);
    } catch {
      return undefined;
    }
  }
  return params;
}

const noParams: RouteParams = Object.freeze({});

/** Creates the route over `options.routes` (see the module comment). */
export function createJsonRouter(options: JsonRouterOptions): HttpRoute {
  const { routes, logger, errorBody } = options;
  const exact = new Map<string, Partial<Record<HttpMethod, JsonHandler>>>();
  const patterns: PathPattern[] = [];
  for (const [path, methods] of Object.entries(routes)) {
    if (path.includes("{")) patterns.push(compile(path, methods));
    else exact.set(path, methods);
  }

  function find(path: string): { methods: Partial<Record<HttpMethod, JsonHandler>>; params: RouteParams } | undefined {
    const methods = exact.get(path);
    if (methods !== undefined) return { methods, params: noParams };
    if (patterns.length === 0) return undefined;
    const parts = path.split("/");
    for (const pattern of patterns) {
      const params = matchPattern(pattern, parts);
      if (params !== undefined) return { methods: pattern.methods, params };
    }
    return undefined;
  }

  return (req, res) => {
    const path = requestPath(req);
    const route = find(path);
    if (route === undefined) return false;
    // gRPC, gRPC-Web and Connect streaming calls never use these paths, but be explicit: leave
    // them to the RPC handler.
    if (parseContentType(req.headers["content-type"])?.enveloped === true) return false;
    const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
    const handle = route.methods[method as HttpMethod];
    if (handle === undefined) {
      failJson(req, res, commonErrors.notFoundRoute(`${method} ${path}`), logger, errorBody);
      return true;
    }
    try {
      const done = handle(req, res, route.params);
      if (done !== undefined) done.catch((err: unknown) => failJson(req, res, err, logger, errorBody));
    } catch (err) {
      failJson(req, res, err, logger, errorBody);
    }
    return true;
  };
}
