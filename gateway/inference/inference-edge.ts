/**
 * The network edge of the inference server, assembled: the JSON routes, the Open Inference
 * Protocol's REST routes, MLflow's scoring-server routes, InferenceService, GRPCInferenceService and gRPC Health over connect-node
 * (gRPC, gRPC-Web, Connect), load shedding in front of the prediction paths, and the gRPC fast
 * path for Predict, PredictBatch, PredictStream, ModelInfer and ModelStreamInfer. What a listener
 * (http/dual-protocol-server.ts) serves; app/inference-server.ts composes it with the rest.
 */
import type { Logger } from "../../core/logger.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { GRPCInferenceService } from "../../gen/inference/v2/grpc_predict_v2_pb.js";
import { InferenceService } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import type { InferenceMetrics } from "../../server/inference-metrics.js";
import type { PredictionService } from "../../server/prediction-service.js";
import type { AdmissionControl } from "../admission/admission-control.js";
import { createGrpcAdmission, withLoadShedding } from "../admission/load-shedding.js";
import type { Authenticator } from "../auth/bearer-authenticator.js";
import { withAuthentication } from "../auth/inference-authentication.js";
import { createHealthService } from "../health/grpc-health-service.js";
import type { MetricsExposition } from "../health/health-routes.js";
import type { Readiness } from "../health/readiness.js";
import type { DualProtocolHandler } from "../http/dual-protocol-server.js";
import type { HttpRequest } from "../http/http-route.js";
import { createOipConnectService } from "../oip/oip-connect-service.js";
import { createOipRestRoutes, isOipBinaryBody, isOipInferPath } from "../oip/oip-rest-routes.js";
import { createOipRpc } from "../oip/oip-rpc.js";
import { parseContentType } from "../protocol/content-type.js";
import { routeNotFound } from "../protocol/route-not-found.js";
import { createConnectHandler } from "../protocol-connect/connect-handler.js";
import { retryAfterSeconds } from "../protocol-json/json-response.js";
import { type BodyLimits, receiveBody } from "../protocol-json/request-body.js";
import { createGrpcFastPath, type StreamRoute } from "./grpc-fast-path.js";
import { createInferenceConnectService } from "./inference-connect-service.js";
import { createInferenceHttpRoutes } from "./inference-http-routes.js";
import { createInferenceRpc } from "./inference-rpc.js";
import { createMlflowScoringRoutes } from "./mlflow-scoring-routes.js";

/** Options of {@link createInferenceEdge}. */
export interface InferenceEdgeOptions {
  readonly service: PredictionService;
  readonly readiness: Readiness;
  readonly metrics: InferenceMetrics;
  /** What GET /metrics serves; default `metrics.registry` (this process's metrics). */
  readonly metricsExposition?: MetricsExposition | undefined;
  /** Decides which prediction requests are taken; refused ones are answered unread. */
  readonly admission: AdmissionControl;
  /** Largest request body or message in bytes (MAX_REQUEST_BYTES). */
  readonly maxRequestBytes: number;
  /** Largest JSON /predict body in bytes (MAX_JSON_BODY_BYTES). */
  readonly maxJsonBodyBytes: number;
  /**
   * Longest a JSON /predict body, a gRPC fast-path unary message or the body of a unary or
   * server-streaming Connect / gRPC-Web call may take to arrive, in ms (REQUEST_READ_TIMEOUT_MS).
   */
  readonly requestReadTimeoutMs: number;
  /**
   * Authenticates every request but health, metrics and docs before admission control
   * (INFERENCE_AUTH=token; gateway/auth/inference-authentication.ts); undefined: no credentials needed.
   */
  readonly authenticate?: Authenticator | undefined;
  readonly logger: Logger;
}

/** What a dual-protocol listener serves (its `handler` and `streamRoute` options). */
export interface InferenceEdge {
  readonly handler: DualProtocolHandler;
  readonly streamRoute: StreamRoute;
  /**
   * The handler of the gRPC-only port (INFERENCE_GRPC_PORT, Triton style): gRPC calls as
   * `handler` serves them, anything else (JSON, Connect, gRPC-Web, docs) ROUTE_NOT_FOUND.
   */
  readonly grpcOnlyHandler: DualProtocolHandler;
}

/** The procedures of InferenceService that predict (and go through admission). */
const predictionMethods = [
  InferenceService.method.predict,
  InferenceService.method.predictBatch,
  InferenceService.method.predictStream,
].map((m) => `/${InferenceService.typeName}/${m.name}`);

/** The procedures of the Open Inference Protocol's GRPCInferenceService that predict. */
const oipPredictionMethods = [GRPCInferenceService.method.modelInfer, GRPCInferenceService.method.modelStreamInfer].map(
  (m) => `/${GRPCInferenceService.typeName}/${m.name}`,
);

/** Creates the inference server's edge over its data plane. */
export function createInferenceEdge(options: InferenceEdgeOptions): InferenceEdge {
  const { service, readiness, metrics, admission, maxRequestBytes, logger } = options;
  const rpc = createInferenceRpc(service);
  // Bodies are bounded in size and in time to arrive; JSON has its own size cap, below the binary
  // one (a parsed JSON body takes many times its size in memory), which the Open Inference
  // Protocol's binary tensor extension (a JSON header, then raw bytes) gets instead.
  const jsonBody: BodyLimits = { maxBytes: options.maxJsonBodyBytes, timeoutMs: options.requestReadTimeoutMs };
  const binaryBody: BodyLimits = { maxBytes: maxRequestBytes, timeoutMs: options.requestReadTimeoutMs };
  const bodyLimits = (req: HttpRequest): BodyLimits => (isOipBinaryBody(req) ? binaryBody : jsonBody);
  const json = createInferenceHttpRoutes({
    service,
    readiness,
    metrics,
    metricsExposition: options.metricsExposition,
    jsonBody,
    logger,
  });
  const oip = createOipRpc(service, readiness);
  const oipRest = createOipRestRoutes({ service, readiness, bodyLimits, logger });
  const mlflowScoring = createMlflowScoringRoutes({ service, readiness, jsonBody, logger });
  const connect = createConnectHandler({
    maxRequestBytes,
    compressResponses: false,
    requestReadTimeoutMs: options.requestReadTimeoutMs,
    logger,
    routes: (router) => {
      router.service(InferenceService, createInferenceConnectService(rpc));
      router.service(GRPCInferenceService, createOipConnectService(oip));
      router.service(Health, createHealthService(readiness));
    },
  });
  // Prediction requests beyond what the server can take are refused before they are parsed: RPCs
  // streams unread, JSON requests and single-message RPCs once their body has arrived (a slow body
  // holds no admission slot).
  const admitted = withLoadShedding(
    (req, res) => {
      if (!json(req, res) && !oipRest(req, res) && !mlflowScoring(req, res)) connect(req, res);
    },
    {
      admission,
      jsonPaths: ["/predict", "/predict/batch", "/invocations"],
      isJsonPath: isOipInferPath,
      rpcPaths: [...predictionMethods, ...oipPredictionMethods],
      metrics,
      retryAfterSeconds,
      receiveBody: (req) => receiveBody(req, bodyLimits(req)),
      readRpcBody: (req) => connect.readAhead(req),
    },
  );
  // Credentials are checked before admission: an unauthenticated flood takes no admission slot.
  const { authenticate } = options;
  const handler = authenticate === undefined ? admitted : withAuthentication(admitted, authenticate);
  // gRPC Predict, PredictBatch and PredictStream skip connect-node (see grpc-fast-path.ts).
  const streamRoute = createGrpcFastPath({
    predictions: rpc,
    oip,
    admission: createGrpcAdmission({ admission, metrics, retryAfterSeconds }),
    authenticate,
    maxRequestBytes,
    requestReadTimeoutMs: options.requestReadTimeoutMs,
    logger,
  });
  const grpcOnlyHandler: DualProtocolHandler = (req, res) => {
    if (parseContentType(req.headers["content-type"])?.protocol === "grpc") handler(req, res);
    else routeNotFound(req, res);
  };
  return { handler, streamRoute, grpcOnlyHandler };
}
