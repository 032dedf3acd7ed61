import type { ConnectRouter, ContextValues, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "../../core/logger.js";
import type { DualProtocolHandler } from "../http/dual-protocol-server.js";
import { parseContentType } from "../protocol/content-type.js";
import { routeNotFound } from "../protocol/route-not-found.js";
import { respecGrpcMessageTrailer } from "../protocol-grpc/grpc-message.js";
import { createErrorInterceptor } from "./error-interceptor.js";
import { withJsonNullNumbersRefused } from "./json-null-numbers.js";
import { withMalformedRequestStatus } from "./malformed-request-status.js";

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
export function createConnectHandler(options: ConnectHandlerOptions): DualProtocolHandler {
  const handle = connectNodeAdapter({
    routes: (router) => {
      options.routes(router);
      // The adapter reads router.handlers after this returns: each is wrapped in place.
      router.handlers.forEach((h, i) => {
        router.handlers[i] = withMalformedRequestStatus(
          withJsonNullNumbersRefused(h, options.maxRequestBytes),
          options.logger,
          options.maxRequestBytes,
        );
      });
    },
    readMaxBytes: options.maxRequestBytes,
    // connect-es compresses messages of at least compressMinBytes; none is that large.
    ...(options.compressResponses === false ? { compressMinBytes: Number.MAX_SAFE_INTEGER } : {}),
    jsonOptions: { ignoreUnknownFields: false },
    interceptors: [...(options.interceptors ?? []), createErrorInterceptor(options.logger)],
    fallback: routeNotFound,
    ...(options.contextValues === undefined ? {} : { contextValues: options.contextValues }),
  });
  return (req, res) => {
    if (parseContentType(req.headers["content-type"])?.protocol === "grpc") respecGrpcMessageTrailer(res);
    handle(req, res);
  };
}
