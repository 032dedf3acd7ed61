/**
 * inference.GRPCInferenceService (the Open Inference Protocol over gRPC) over the data plane, in
 * protobuf shapes and free of any transport: what the gRPC fast path (ModelInfer,
 * ModelStreamInfer) and the Connect service (everything, for gRPC-Web, Connect and the other gRPC
 * methods) both call. Validation, batching, deadlines, counting and stream orchestration are the
 * PredictionService's; model choice is oip-model.ts's.
 */
import { create } from "@bufbuild/protobuf";
import {
  type ModelInferRequest,
  type ModelInferResponse,
  type ModelMetadataRequest,
  type ModelMetadataResponse,
  ModelMetadataResponseSchema,
  type ModelReadyRequest,
  type ModelReadyResponse,
  ModelReadyResponseSchema,
  type ModelStreamInferResponse,
  type ServerLiveResponse,
  ServerLiveResponseSchema,
  type ServerMetadataResponse,
  ServerMetadataResponseSchema,
  type ServerReadyResponse,
  ServerReadyResponseSchema,
} from "../../gen/inference/v2/grpc_predict_v2_pb.js";
import type { CallContext } from "../../server/call-context.js";
import type { PredictStreamInput, PredictStreamSink } from "../../server/predict-stream.js";
import type { PredictionService } from "../../server/prediction-service.js";
import type { Readiness } from "../health/readiness.js";
import type { MessageReader } from "../inference/inference-rpc.js";
import {
  modelInferRequestOf,
  modelInferResponseOf,
  modelStreamAnswerOf,
  modelStreamErrorOf,
} from "./oip-grpc-messages.js";
import { oipExtensions, oipModelMetadata, oipModelReady, oipServerName, oipServerVersion } from "./oip-model.js";

/** The predicting methods of the service, as a transport serves them. */
export interface OipPredictions {
  modelInfer(context: CallContext, read: MessageReader<ModelInferRequest>): Promise<ModelInferResponse>;
  /** Starts a ModelStreamInfer whose answers go to `sink`; returns its input, fed by the transport. */
  modelStreamInfer(
    context: CallContext,
    sink: PredictStreamSink<ModelStreamInferResponse>,
  ): PredictStreamInput<ModelInferRequest>;
}

/** Every method of the service, as a transport serves them. */
export interface OipRpc extends OipPredictions {
  serverLive(): ServerLiveResponse;
  serverReady(): ServerReadyResponse;
  modelReady(req: ModelReadyRequest): ModelReadyResponse;
  serverMetadata(): ServerMetadataResponse;
  modelMetadata(req: ModelMetadataRequest): ModelMetadataResponse;
}

/** Creates the service's operations over the data plane. */
export function createOipRpc(service: PredictionService, readiness: Readiness): OipRpc {
  const streamCodec = {
    request: (req: ModelInferRequest) => modelInferRequestOf(service, req),
    answer: modelStreamAnswerOf,
    errorAnswer: modelStreamErrorOf,
  };
  return {
    async modelInfer(context, read) {
      // The request message is kept to shape the answer (its id, outputs, raw or typed).
      let message: ModelInferRequest | undefined;
      const r = await service.predict(context, async () => {
        const pending = read();
        message = pending instanceof Promise ? await pending : pending;
        return modelInferRequestOf(service, message);
      });
      // `message` is set: the data plane answered, so it read the request.
      return modelInferResponseOf(message as ModelInferRequest, r);
    },
    modelStreamInfer: (context, sink) => service.predictStream(context, streamCodec, sink),
    serverLive: () => create(ServerLiveResponseSchema, { live: true }),
    serverReady: () => create(ServerReadyResponseSchema, { ready: readiness.serving }),
    modelReady: (req) => create(ModelReadyResponseSchema, { ready: oipModelReady(service, req.name, req.version) }),
    serverMetadata: () =>
      create(ServerMetadataResponseSchema, {
        name: oipServerName,
        version: oipServerVersion,
        extensions: [...oipExtensions],
      }),
    modelMetadata(req) {
      const m = oipModelMetadata(service, req.name, req.version);
      return create(ModelMetadataResponseSchema, {
        name: m.name,
        versions: [...m.versions],
        platform: m.platform,
        inputs: m.inputs.map((t) => ({ ...t, shape: t.shape.map((d) => BigInt(d)) })),
        outputs: m.outputs.map((t) => ({ ...t, shape: t.shape.map((d) => BigInt(d)) })),
      });
    },
  };
}
