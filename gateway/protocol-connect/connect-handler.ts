import { type ConnectRouter, type ContextValues, createContextValues, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "../../core/logger.js";
import type { DualProtocolHandler } from "../http/dual-protocol-server.js";
import { parseContentType } from "../protocol/content-type.js";
import { routeNotFound } from "../protocol/route-not-found.js";
import { respecGrpcMessageTrailer } from "../protocol-grpc/grpc-message.js";
import { createErrorInterceptor } from "./error-interceptor.js";
import { withJsonNullNumbersRefused } from "./json-null-numbers.js";
import { withMalformedRequestStatus } from "./malformed-request-status.js";
import {
  readAhead,
  readAheadLimits,
  readsAhead,
  refuseUnreadBody,
  withReadAheadBody,
  withReadAheadValue,
} from "./request-read-ahead.js";

/** Options of {@link createConnectHandler}. */
export interface ConnectHandlerOptions {
  /** Registers the services, e.g. `(router) => router.service(TrackingService, impl)`. */
  readonly routes: (router: ConnectRouter) => void;
  /**
   * Largest request message in bytes (MAX_REQUEST_BYTES): a unary body, or each message of a
   * stream. Larger ones are refused with RESOURCE_EXHAUSTED before they are parsed.
   */
  readonly maxRequestBytes: number;
  readonly logger: Logger;
  /**
   * Whether responses may be compressed (gzip / brotli, when the client accepts it, for messages
   * of 1 KiB or more); default true. Compressed requests are accepted either way. The inference
   * server turns it off: its large answers are raw float tensors, which gzip barely shrinks, and
   * compressing them cost more CPU than the rest of a 1024-row PredictBatch call (client and server).
   */
  readonly compressResponses?: boolean;
  /**
   * Interceptors run around the error interceptor (the first is the outermost), so they see every
   * error already translated to its code, e.g. the registry's RPC metrics. Default none.
   */
  readonly interceptors?: readonly Interceptor[];
  /** Context values of each call, made from the Node request (e.g. the TLS client certificate's CN). Default none. */
  readonly contextValues?: ((req: Parameters<DualProtocolHandler>[0]) => ContextValues) | undefined;
  /**
   * Longest the request body of a unary or server-streaming call may take to arrive, in ms
   * (REQUEST_READ_TIMEOUT_MS): such bodies are read whole, bounded in time and size, before the
   * call starts (request-read-ahead.ts). Default 0: read as they arrive, bounded by the idle timeout only.
   */
  readonly requestReadTimeoutMs?: number;
}

/** The RPC request handler, and the bounded read of a request's body that it does first. */
export interface ConnectHandler extends DualProtocolHandler {
  /**
   * Starts (or joins) the bounded read of the body of a request to a unary or server-streaming
   * method and resolves once it has arrived (rejects when it did not: the handler then answers
   * the error); undefined for any other request, whose body is read as the call goes.
   */
  readAhead(req: Parameters<DualProtocolHandler>[0]): Promise<void> | undefined;
}

/**
 * The one request handler of the RPC services: gRPC, gRPC-Web and Connect (binary and JSON) for
 * every registered service, over HTTP/1.1 or HTTP/2. It applies mlpipe's rules at the edge:
 * errors translated by the error interceptor, the request size limit, JSON with unknown fields
 * rejected (INVALID_ARGUMENT, as a typo in a field name must not be silently ignored), JSON null for
 * a number field rejected rather than read as 0 (json-null-numbers.ts), a binary
 * message that cannot be parsed answered INVALID_ARGUMENT rather than connect-es's INTERNAL (see
 * malformed-request-status.ts), and 404 for unknown routes.
 */
export function createConnectHandler(options: ConnectHandlerOptions): ConnectHandler {
  const timeoutMs = options.requestReadTimeoutMs ?? 0;
  const limits = readAheadLimits(options.maxRequestBytes, timeoutMs);
  /** Procedure paths whose bodies are read ahead. */
  const readAheadPaths = new Set<string>();
  const handle = connectNodeAdapter({
    routes: (router) => {
      options.routes(router);
      // The adapter reads router.handlers after this returns: each is wrapped in place.
      router.handlers.forEach((h, i) => {
        const wrapped = withMalformedRequestStatus(
          withJsonNullNumbersRefused(h, options.maxRequestBytes),
          options.logger,
          options.maxRequestBytes,
        );
        const ahead = timeoutMs > 0 && readsAhead(h.method.methodKind);
        if (ahead) readAheadPaths.add(h.requestPath);
        router.handlers[i] = ahead ? withReadAheadBody(wrapped) : wrapped;
      });
    },
    readMaxBytes: options.maxRequestBytes,
    // connect-es compresses messages of at least compressMinBytes; none is that large.
    ...(options.compressResponses === false ? { compressMinBytes: Number.MAX_SAFE_INTEGER } : {}),
    jsonOptions: { ignoreUnknownFields: false },
    interceptors: [...(options.interceptors ?? []), createErrorInterceptor(options.logger)],
    fallback: routeNotFound,
    contextValues: (req) => withReadAheadValue(req, options.contextValues?.(req) ?? createContextValues()),
  });
  const readAheadOf = (req: Parameters<DualProtocolHandler>[0]): Promise<void> | undefined => {
    // Connect unary GET requests carry their message in the URL.
    if (req.method !== "POST") return undefined;
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    return readAheadPaths.has(query < 0 ? url : url.slice(0, query)) ? readAhead(req, limits) : undefined;
  };
  const handler: DualProtocolHandler = (req, res) => {
    if (parseContentType(req.headers["content-type"])?.protocol === "grpc") respecGrpcMessageTrailer(res);
    const body = readAheadOf(req);
    if (body === undefined) {
      handle(req, res);
      return;
    }
    body.then(
      () => handle(req, res),
      (err: unknown) => refuseUnreadBody(req, res, err),
    );
  };
  return Object.assign(handler, { readAhead: readAheadOf });
}
