/**
 * The one router of the edge's plain HTTP routes (JSON APIs, health, metrics, docs, the MLflow
 * REST dialect, the Open Inference Protocol): a table of paths, each with a handler per method,
 * answered with the edge's error policy. A path is exact ("/predict"), has parameters in braces
 * ("/v2/models/{name}/infer", one whole segment each, percent-decoded: a segment that is not valid percent-encoding is
 * INVALID_ARGUMENT), or is a prefix when its key
 * ends in `/*` (the handler reads the rest of the path itself; the longest matching prefix wins).
 * Exact paths are looked up first, in one map lookup, so the hot routes pay nothing for the
 * patterns. A path that matches nothing is left to the next route (false), so the RPC handler
 * behind still sees every gRPC, gRPC-Web and Connect call, unless it lies under one of the
 * router's `ownedPrefixes`; a path asked with a method it lacks, or an owned one that matches
 * nothing, is ROUTE_NOT_FOUND. HEAD is served by the GET handler (Node drops the body of a HEAD
 * answer).
 *
 * A POST must say `Content-Type: application/json` (or what the router's `acceptsBody` takes);
 * anything else, no content type included, is UNSUPPORTED_MEDIA_TYPE (415) unread. POST is the
 * one method with a body a browser sends across origins without a CORS preflight, with the types
 * text/plain and the form encodings: refusing those means a page of another origin cannot make a
 * visitor's browser post to these routes. (PUT, PATCH and DELETE always need a preflight.)
 */
import { commonErrors, type MlpipeError } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import { type HttpRequest, type HttpResponse, type HttpRoute, requestPath } from "../http/http-route.js";
import { parseContentType } from "../protocol/content-type.js";
import { callerError } from "../protocol/error-policy.js";
import { type JsonErrorEncoder, jsonErrorResponse, sendJsonError } from "./json-response.js";

/** The values of a route's path parameters by name ({} for an exact or prefix path). */
export type RouteParams = Readonly<Record<string, string>>;

/** Answers one route; what it throws or rejects with is answered as a JSON error. */
export type JsonHandler = (req: HttpRequest, res: HttpResponse, params: RouteParams) => void | Promise<void>;

/** HTTP methods a route may answer. */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** The handlers of one path by method. */
type RouteMethods = Partial<Record<HttpMethod, JsonHandler>>;

/** Path (exact, with `{param}` segments, or `prefix/*`) -> method -> handler. */
export type JsonRouteTable = Readonly<Record<string, RouteMethods>>;

/** True for a request declaring `application/json`, with or without parameters (`; charset=utf-8`). */
export function declaresJson(req: HttpRequest): boolean {
  const parsed = parseContentType(req.headers["content-type"]);
  return parsed !== undefined && !parsed.enveloped && parsed.codec === "json";
}

/** Options of {@link createJsonRouter}. */
export interface JsonRouterOptions {
  readonly routes: JsonRouteTable;
  /** Where the error policy logs (server errors with their cause, client errors at debug). */
  readonly logger: Logger;
  /** The error encoding of the routes' dialect; default mlpipe's JSON API (jsonErrorResponse). */
  readonly encodeError?: JsonErrorEncoder | undefined;
  /**
   * Path prefixes (ending in `/`) the router answers in full: a path under one that no route
   * matches is ROUTE_NOT_FOUND in the router's encoding, not passed on. Default none.
   */
  readonly ownedPrefixes?: readonly string[] | undefined;
  /**
   * Whether a POST's body may be read (see the module comment); default {@link declaresJson}. A
   * dialect taking other bodies accepts them only where a browser must ask first (a custom header).
   */
  readonly acceptsBody?: ((req: HttpRequest) => boolean) | undefined;
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
  const told: MlpipeError = callerError(err, { procedure: `${req.method ?? "GET"} ${requestPath(req)}` }, logger);
  sendJsonError(res, told, encode);
}

/** A path with parameters, split into its segments: literal text, or the name of a parameter. */
interface PathPattern {
  readonly segments: readonly ({ readonly literal: string } | { readonly param: string })[];
  readonly methods: RouteMethods;
}

function compile(path: string, methods: RouteMethods): PathPattern {
  const segments = path.split("/").map((s) => {
    const param = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(s)?.[1];
    return param === undefined ? { literal: s } : { param };
  });
  return { segments, methods };
}

/**
 * The parameters of `path` under `pattern`; undefined when it does not match; `{ badParam }` when it
 * matches but a parameter's segment is not valid percent-encoding (answered INVALID_ARGUMENT).
 */
function matchPattern(
  pattern: PathPattern,
  parts: readonly string[],
): { readonly params: RouteParams } | { readonly badParam: string } | undefined {
  if (parts.length !== pattern.segments.length) return undefined;
  const params: Record<string, string> = {};
  let badParam: string | undefined;
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
      badParam ??= segment.param;
    }
  }
  return badParam === undefined ? { params } : { badParam };
}

const noParams: RouteParams = Object.freeze({});

/** Creates the route over `options.routes` (see the module comment). */
export function createJsonRouter(options: JsonRouterOptions): HttpRoute {
  const { routes, logger } = options;
  const encode = options.encodeError ?? jsonErrorResponse;
  const owned = options.ownedPrefixes ?? [];
  const acceptsBody = options.acceptsBody ?? declaresJson;
  const exact = new Map<string, RouteMethods>();
  const patterns: PathPattern[] = [];
  const prefixes: { readonly prefix: string; readonly methods: RouteMethods }[] = [];
  for (const [path, methods] of Object.entries(routes)) {
    if (path.endsWith("/*")) prefixes.push({ prefix: path.slice(0, -1), methods });
    else if (path.includes("{")) patterns.push(compile(path, methods));
    else exact.set(path, methods);
  }
  // Longest prefix first.
  prefixes.sort((a, b) => b.prefix.length - a.prefix.length);

  function find(path: string): { methods: RouteMethods; params: RouteParams; badParam?: string } | undefined {
    const methods = exact.get(path);
    if (methods !== undefined) return { methods, params: noParams };
    if (patterns.length > 0) {
      const parts = path.split("/");
      for (const pattern of patterns) {
        const match = matchPattern(pattern, parts);
        if (match === undefined) continue;
        if ("badParam" in match) return { methods: pattern.methods, params: noParams, badParam: match.badParam };
        return { methods: pattern.methods, params: match.params };
      }
    }
    const prefixed = prefixes.find((p) => path.startsWith(p.prefix));
    return prefixed === undefined ? undefined : { methods: prefixed.methods, params: noParams };
  }

  return (req, res) => {
    const path = requestPath(req);
    const route = find(path);
    if (route === undefined && !owned.some((prefix) => path.startsWith(prefix))) return false;
    // gRPC, gRPC-Web and Connect streaming calls never use these paths, but be explicit: leave
    // them to the RPC handler.
    if (parseContentType(req.headers["content-type"])?.enveloped === true) return false;
    const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
    const handle = route?.methods[method as HttpMethod];
    if (handle === undefined) {
      failJson(req, res, commonErrors.notFoundRoute(`${method} ${path}`), logger, encode);
      return true;
    }
    if (method === "POST" && !acceptsBody(req)) {
      req.resume();
      failJson(req, res, commonErrors.unsupportedMediaType(req.headers["content-type"]), logger, encode);
      return true;
    }
    if (route?.badParam !== undefined) {
      req.resume();
      const bad = commonErrors.invalidArgument(route.badParam, "the path segment is not valid percent-encoding");
      failJson(req, res, bad, logger, encode);
      return true;
    }
    try {
      const done = handle(req, res, route?.params ?? noParams);
      if (done !== undefined) done.catch((err: unknown) => failJson(req, res, err, logger, encode));
    } catch (err) {
      failJson(req, res, err, logger, encode);
    }
    return true;
  };
}
