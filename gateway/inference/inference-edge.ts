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
import { createHealthService } from "../health/grpc-health-service.js";
import type { Readiness } from "../health/readiness.js";
import type { DualProtocolHandler } from "../http/dual-protocol-server.js";
import { createOipConnectService } from "../oip/oip-connect-service.js";
import { createOipRestRoutes, isOipInferPath } from "../oip/oip-rest-routes.js";
import { createOipRpc } from "../oip/oip-rpc.js";
import { parseContentType } from "../protocol/content-type.js";
import { routeNotFound } from "../protocol/route-not-found.js";
import { createConnectHandler } from "../protocol-connect/connect-handler.js";
import { retryAfterSeconds } from "../protocol-json/json-response.js";
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
  /** Decides which prediction requests are taken; refused ones are answered unread. */
  readonly admission: AdmissionControl;
  /** Largest request body or message in bytes (MAX_REQUEST_BYTES). */
  readonly maxRequestBytes: number;
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
  const oip = createOipRpc(service, readiness);
  const json = createInferenceHttpRoutes({ service, readiness, metrics, maxRequestBytes, logger });
  const oipRest = createOipRestRoutes({ service, readiness, maxRequestBytes, logger });
  const mlflowScoring = createMlflowScoringRoutes({ service, readiness, maxRequestBytes, logger });
  const connect = createConnectHandler({
    maxRequestBytes,
    compressResponses: false,
    logger,
    routes: (router) => {
      router.service(InferenceService, createInferenceConnectService(rpc));
      router.service(GRPCInferenceService, createOipConnectService(oip));
      router.service(Health, createHealthService(readiness));
    },
  });
  // Prediction requests beyond what the server can take are refused before their body is read.
  const handler = withLoadShedding(
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
    },
  );
  // gRPC Predict, PredictBatch and PredictStream skip connect-node (see grpc-fast-path.ts).
  const streamRoute = createGrpcFastPath({
    predictions: rpc,
    oip,
    admission: createGrpcAdmission({ admission, metrics, retryAfterSeconds }),
    maxRequestBytes,
    logger,
  });
  const grpcOnlyHandler: DualProtocolHandler = (req, res) => {
    if (parseContentType(req.headers["content-type"])?.protocol === "grpc") handler(req, res);
    else routeNotFound(req, res);
  };
  return { handler, streamRoute, grpcOnlyHandler };
}
