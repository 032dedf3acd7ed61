/**
 * Load shedding at the edge of the inference server: wraps the request handler so that a
 * prediction request (a JSON route or an RPC procedure listed in the options) that admission
 * control refuses is answered at once with INFERENCE_OVERLOADED, before it is parsed or routed
 * (streaming RPCs before their body is read; unary and server-streaming RPCs and JSON routes once
 * their body has arrived, see `receiveBody` and `readRpcBody`),
 * in the encoding of its protocol:
 *
 * - JSON routes: HTTP 429, `Retry-After`, the JSON error body of every route;
 * - gRPC: a trailers-only response with status RESOURCE_EXHAUSTED, the ErrorDetail in
 *   `grpc-status-details-bin` and `grpc-retry-pushback-ms` (the gRPC retry policy's pushback);
 * - gRPC-Web: the same status in the headers of an empty response (trailers-only);
 * - Connect unary: HTTP 429 with `Retry-After` and the Connect JSON error;
 * - Connect streaming: HTTP 200 with an end-of-stream frame carrying the error.
 *
 * Every response is encoded once (by protocol/error-response.ts), when the wrapper is created, so
 * refusing costs a header lookup and a write. Health, metrics, docs and model info never go
 * through admission. Refusals are counted here, in inference_shed_requests_total and
 * prediction_requests_total (code resource_exhausted): they never reach the data plane.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { inferenceErrors } from "../../core/errors/index.js";
import type { Protocol } from "../../server/call-context.js";
import type { InferenceMetrics } from "../../server/inference-metrics.js";
import type { DualProtocolHandler } from "../http/dual-protocol-server.js";
import { parseContentType } from "../protocol/content-type.js";
import {
  type EncodedError,
  type ErrorWire,
  encodeError,
  rpcErrorWire,
  sendEncodedError,
} from "../protocol/error-response.js";
import type { AdmissionControl, ShedReason } from "./admission-control.js";

/** Options of {@link withLoadShedding}. */
export interface LoadSheddingOptions {
  readonly admission: AdmissionControl;
  /** JSON routes subject to admission, e.g. "/predict". */
  readonly jsonPaths: readonly string[];
  /** JSON routes with path parameters subject to admission (the Open Inference Protocol's .../infer). */
  readonly isJsonPath?: ((path: string) => boolean) | undefined;
  /** RPC procedures subject to admission, e.g. "/mlpipe.inference.v1.InferenceService/Predict". */
  readonly rpcPaths: readonly string[];
  /** Counts refusals (inference_shed_requests_total) and answers (prediction_requests_total). */
  readonly metrics: InferenceMetrics;
  /** Seconds a refused client is told to wait (Retry-After; gRPC pushback in ms). */
  readonly retryAfterSeconds: number;
  /**
   * Receives the body of a JSON route's request (bounded in size and time), which the route then
   * reads again from where it is kept. A JSON request is admitted only once this settles, so
   * connections trickling their bodies never hold admission slots (issue 13, defect 3).
   */
  readonly receiveBody?: (req: IncomingMessage | Http2ServerRequest) => Promise<unknown>;
  /**
   * Starts the bounded read of an RPC's request body when the handler reads it ahead (a unary or
   * server-streaming call, protocol-connect/request-read-ahead.ts), undefined for a call whose
   * body is read as it goes (client-streaming and bidi: admitted at once). Such a call is admitted
   * only once its body has arrived, as JSON requests are.
   */
  readonly readRpcBody?: (req: IncomingMessage | Http2ServerRequest) => Promise<unknown> | undefined;
}

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

const reasonText: Record<ShedReason, string> = {
  in_flight: "too many requests in flight",
  event_loop_delay: "the event loop is running late",
};

const protocolOfWire: Record<ErrorWire, Protocol> = {
  json: "http",
  grpc: "grpc",
  grpc_web: "grpc_web",
  connect_unary: "connect",
  connect_stream: "connect",
};

/** A refusal's answer for each wire, with the retry hints each protocol understands. */
function encodeRefusals(reason: ShedReason, retryAfterSeconds: number): Record<ErrorWire, EncodedError> {
  const err = inferenceErrors.overloaded(reasonText[reason]);
  const retryAfter = { "retry-after": String(retryAfterSeconds) };
  const withHeaders = (wire: ErrorWire, extra: Record<string, string>): EncodedError => {
    const encoded = encodeError(err, wire);
    return { ...encoded, headers: { ...encoded.headers, ...extra } };
  };
  return {
    json: withHeaders("json", retryAfter),
    grpc: withHeaders("grpc", { "grpc-retry-pushback-ms": String(retryAfterSeconds * 1000) }),
    grpc_web: withHeaders("grpc_web", {}),
    connect_unary: withHeaders("connect_unary", retryAfter),
    connect_stream: withHeaders("connect_stream", retryAfter),
  };
}

/** The refusals of one server, encoded once, and their counting. */
function createRefusals(options: Pick<LoadSheddingOptions, "metrics" | "retryAfterSeconds">) {
  const { metrics } = options;
  const encoded: Record<ShedReason, Record<ErrorWire, EncodedError>> = {
    in_flight: encodeRefusals("in_flight", options.retryAfterSeconds),
    event_loop_delay: encodeRefusals("event_loop_delay", options.retryAfterSeconds),
  };
  return {
    /** Counts a refusal on `wire` and returns its answer. */
    refuse(reason: ShedReason, wire: ErrorWire): EncodedError {
      const protocol = protocolOfWire[wire];
      metrics.shed.inc({ protocol, reason });
      metrics.requestTally(protocol, "resource_exhausted", "").inc();
      return encoded[reason][wire];
    },
  };
}

/**
 * Wraps `handler`: requests to the listed paths go through `options.admission`; refused ones are
 * answered as described above and counted, admitted ones are released when their response closes.
 */
export function withLoadShedding(handler: DualProtocolHandler, options: LoadSheddingOptions): DualProtocolHandler {
  const { admission } = options;
  const refusals = createRefusals(options);
  const kinds = new Map<string, "json" | "rpc">([
    ...options.jsonPaths.map((p) => [p, "json"] as const),
    ...options.rpcPaths.map((p) => [p, "rpc"] as const),
  ]);

  return (req: Request, res: Response) => {
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const path = query < 0 ? url : url.slice(0, query);
    const kind = kinds.get(path) ?? (options.isJsonPath?.(path) === true ? "json" : undefined);
    if (kind === undefined) {
      handler(req, res);
      return;
    }
    const body = kind === "json" ? options.receiveBody?.(req) : options.readRpcBody?.(req);
    if (body !== undefined) {
      // A body that fails to arrive (too large, too slow, cut off) is the route's or call's to answer.
      body.then(
        () => admit(req, res, kind),
        () => handler(req, res),
      );
      return;
    }
    admit(req, res, kind);
  };

  function admit(req: Request, res: Response, kind: "json" | "rpc"): void {
    const reason = admission.tryAdmit();
    if (reason === undefined) {
      res.once("close", () => admission.release());
      handler(req, res);
      return;
    }
    const contentType = req.headers["content-type"] ?? "application/json";
    const wire = kind === "json" ? "json" : rpcErrorWire(parseContentType(contentType));
    // Discard whatever body arrives; nothing of it is parsed.
    req.resume();
    sendEncodedError(res, refusals.refuse(reason, wire), contentType);
  }
}

/** Admission of gRPC calls served straight on HTTP/2 streams (gateway/inference/grpc-fast-path.ts), outside the request handler. */
export interface GrpcAdmission {
  /**
   * Admits a call (release it once it is answered) or returns the headers of its refusal: a
   * trailers-only RESOURCE_EXHAUSTED response, already counted in the metrics.
   */
  admit(): Readonly<Record<string, string>> | undefined;
  release(): void;
}

/** The gRPC side of {@link withLoadShedding}, with the same admission control, answers and metrics. */
export function createGrpcAdmission(
  options: Pick<LoadSheddingOptions, "admission" | "metrics" | "retryAfterSeconds">,
): GrpcAdmission {
  const { admission } = options;
  const refusals = createRefusals(options);
  return {
    admit() {
      const reason = admission.tryAdmit();
      return reason === undefined ? undefined : refusals.refuse(reason, "grpc").headers;
    },
    release: () => admission.release(),
  };
}
