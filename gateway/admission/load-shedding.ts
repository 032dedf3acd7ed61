/**
 * Load shedding at the edge of the inference server: wraps the request handler so that a
 * prediction request (a JSON route or an RPC procedure listed in the options) that admission
 * control refuses is answered at once with INFERENCE_OVERLOADED, before its body is read, parsed
 * or routed, in the encoding of its protocol:
 *
 * - JSON routes: HTTP 429, `Retry-After`, the JSON error body of every route;
 * - gRPC: a trailers-only response with status RESOURCE_EXHAUSTED, the ErrorDetail in
 *   `grpc-status-details-bin` and `grpc-retry-pushback-ms` (the gRPC retry policy's pushback);
 * - gRPC-Web: the same status in the headers of an empty response (trailers-only);
 * - Connect unary: HTTP 429 with `Retry-After` and the Connect JSON error;
 * - Connect streaming: HTTP 200 with an end-of-stream frame carrying the error.
 *
 * Every response is encoded once, when the wrapper is created, so refusing costs a header lookup
 * and a write. Health, metrics, docs and model info never go through admission.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import { endStreamFlag, endStreamToJson, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { errorJsonBody, httpStatusOf, inferenceErrors } from "../../core/errors/index.js";
import type { InferenceMetrics } from "../../server/inference-metrics.js";
import type { Protocol } from "../../server/prediction-service.js";
import type { DualProtocolHandler } from "../http/dual-protocol-server.js";
import { fromMlpipeError } from "../protocol-connect/error-interceptor.js";
import { encodeGrpcMessage } from "../protocol-grpc/grpc-message.js";
import type { AdmissionControl, ShedReason } from "./admission-control.js";

/** Options of {@link withLoadShedding}. */
export interface LoadSheddingOptions {
  readonly admission: AdmissionControl;
  /** JSON routes subject to admission, e.g. "/predict". */
  readonly jsonPaths: readonly string[];
  /** RPC procedures subject to admission, e.g. "/mlpipe.inference.v1.InferenceService/Predict". */
  readonly rpcPaths: readonly string[];
  /** Counts refusals (inference_shed_requests_total) and answers (prediction_requests_total). */
  readonly metrics: InferenceMetrics;
  /** Seconds a refused client is told to wait (Retry-After; gRPC pushback in ms). */
  readonly retryAfterSeconds: number;
}

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

/** How a refused request is answered, by the shape of its protocol. */
type Wire = "json" | "grpc" | "grpc_web" | "connect_unary" | "connect_stream";

/** A refusal encoded in advance: status, headers and body (the content type is the request's where undefined). */
interface Refusal {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | undefined;
}

const reasonText: Record<ShedReason, string> = {
  in_flight: "too many requests in flight",
  event_loop_delay: "the event loop is running late",
};

function encodeRefusals(reason: ShedReason, retryAfterSeconds: number): Record<Wire, Refusal> {
  const err = inferenceErrors.overloaded(reasonText[reason]);
  const connectErr = fromMlpipeError(err);
  const retryAfter = String(retryAfterSeconds);
  const status = new Headers();
  setTrailerStatus(status, connectErr);
  // connect-es percent-encodes with encodeURIComponent; gRPC clients expect the spec's encoding.
  status.set("grpc-message", encodeGrpcMessage(err.message));
  const grpcStatus = Object.fromEntries(status);
  const json = new TextEncoder().encode(JSON.stringify(errorJsonBody(err)));
  const connectJson = errorToJsonBytes(connectErr, undefined);
  const endStream = encodeEnvelope(
    endStreamFlag,
    new TextEncoder().encode(JSON.stringify(endStreamToJson(new Headers(), connectErr, undefined))),
  );
  const sized = (type: string, body: Uint8Array) => ({
    "content-type": type,
    "content-length": String(body.byteLength),
    "retry-after": retryAfter,
  });
  return {
    json: { status: httpStatusOf(err), headers: sized("application/json", json), body: json },
    grpc: {
      status: 200,
      headers: { ...grpcStatus, "grpc-retry-pushback-ms": String(retryAfterSeconds * 1000) },
      body: undefined,
    },
    grpc_web: { status: 200, headers: grpcStatus, body: undefined },
    connect_unary: { status: 429, headers: sized("application/json", connectJson), body: connectJson },
    connect_stream: {
      status: 200,
      headers: { "content-length": String(endStream.byteLength), "retry-after": retryAfter },
      body: endStream,
    },
  };
}

function wireOf(contentType: string, isRpc: boolean): Wire {
  if (!isRpc) return "json";
  if (contentType.startsWith("application/grpc-web")) return "grpc_web";
  if (contentType.startsWith("application/grpc")) return "grpc";
  if (contentType.startsWith("application/connect+")) return "connect_stream";
  return "connect_unary";
}

const protocolOfWire: Record<Wire, Protocol> = {
  json: "http",
  grpc: "grpc",
  grpc_web: "grpc_web",
  connect_unary: "connect",
  connect_stream: "connect",
};

function refuse(req: Request, res: Response, refusal: Refusal, contentType: string): void {
  // Discard whatever body arrives; nothing of it is parsed.
  req.resume();
  const headers = { "content-type": contentType, ...refusal.headers };
  if (refusal.body === undefined && "stream" in res) {
    // HTTP/2 trailers-only: one HEADERS frame with END_STREAM, as gRPC clients expect.
    res.stream.respond({ ":status": refusal.status, ...headers }, { endStream: true });
    return;
  }
  res.writeHead(refusal.status, headers);
  if (refusal.body === undefined) res.end();
  else res.end(refusal.body);
}

/**
 * Wraps `handler`: requests to the listed paths go through `options.admission`; refused ones are
 * answered as described above and counted, admitted ones are released when their response closes.
 */
export function withLoadShedding(handler: DualProtocolHandler, options: LoadSheddingOptions): DualProtocolHandler {
  const { admission, metrics } = options;
  const kinds = new Map<string, "json" | "rpc">([
    ...options.jsonPaths.map((p) => [p, "json"] as const),
    ...options.rpcPaths.map((p) => [p, "rpc"] as const),
  ]);
  const refusals: Record<ShedReason, Record<Wire, Refusal>> = {
    in_flight: encodeRefusals("in_flight", options.retryAfterSeconds),
    event_loop_delay: encodeRefusals("event_loop_delay", options.retryAfterSeconds),
  };

  return (req, res) => {
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const kind = kinds.get(query < 0 ? url : url.slice(0, query));
    if (kind === undefined) {
      handler(req, res);
      return;
    }
    const reason = admission.tryAdmit();
    if (reason === undefined) {
      res.once("close", () => admission.release());
      handler(req, res);
      return;
    }
    const contentType = req.headers["content-type"] ?? "application/json";
    const wire = wireOf(contentType, kind === "rpc");
    const protocol = protocolOfWire[wire];
    metrics.shed.inc({ protocol, reason });
    metrics.requests.inc({ protocol, code: "resource_exhausted" });
    refuse(req, res, refusals[reason][wire], contentType);
  };
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
  const { admission, metrics } = options;
  const headers: Record<ShedReason, Readonly<Record<string, string>>> = {
    in_flight: encodeRefusals("in_flight", options.retryAfterSeconds).grpc.headers,
    event_loop_delay: encodeRefusals("event_loop_delay", options.retryAfterSeconds).grpc.headers,
  };
  return {
    admit() {
      const reason = admission.tryAdmit();
      if (reason === undefined) return undefined;
      metrics.shed.inc({ protocol: "grpc", reason });
      metrics.requests.inc({ protocol: "grpc", code: "resource_exhausted" });
      return headers[reason];
    },
    release: () => admission.release(),
  };
}
