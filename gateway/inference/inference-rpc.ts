/**
 * mlpipe.inference.v1.InferenceService over the data plane, in protobuf shapes and free of any
 * transport: what the gRPC fast path and the Connect service both call. Each operation takes the
 * call context (its protocol among others) and a reader of the request message, converts, and
 * leaves validation, batching, counting and stream orchestration to the PredictionService.
 */
import type {
  ListModelsResponse,
  ModelInfoRequest,
  ModelInfoResponse,
  PredictBatchRequest,
  PredictBatchResponse,
  PredictRequest,
  PredictResponse,
  PredictStreamRequest,
  PredictStreamResponse,
} from "../../gen/mlpipe/inference/v1/inference_pb.js";
import type { CallContext } from "../../server/call-context.js";
import type { PredictStreamInput, PredictStreamSink } from "../../server/predict-stream.js";
import type { PredictionRequest, PredictionService } from "../../server/prediction-service.js";
import {
  listModelsResponseOf,
  modelInfoResponseOf,
  predictBatchRequestOf,
  predictBatchResponseOf,
  predictRequestOf,
  predictResponseOf,
  streamAnswerOf,
  streamErrorAnswerOf,
  streamRequestOf,
} from "./inference-messages.js";

/** Reads a call's request message: at once (Connect decoded it), or once its body has arrived (the fast path). */
export type MessageReader<M> = () => M | Promise<M>;

/** The prediction methods of InferenceService, as a transport serves them. */
export interface InferencePredictions {
  predict(context: CallContext, read: MessageReader<PredictRequest>): Promise<PredictResponse>;
  predictBatch(context: CallContext, read: MessageReader<PredictBatchRequest>): Promise<PredictBatchResponse>;
  /** Starts a PredictStream whose answers go to `sink`; returns its input, fed by the transport. */
  predictStream(
    context: CallContext,
    sink: PredictStreamSink<PredictStreamResponse>,
  ): PredictStreamInput<PredictStreamRequest>;
}

/** Every method of InferenceService, as a transport serves them. */
export interface InferenceRpc extends InferencePredictions {
  modelInfo(req: ModelInfoRequest): ModelInfoResponse;
  listModels(): ListModelsResponse;
}

/** The request reader of the data plane: the message, read, then converted. */
function converted<M>(read: MessageReader<M>, convert: (message: M) => PredictionRequest) {
  return (): PredictionRequest | Promise<PredictionRequest> => {
    const message = read();
    return message instanceof Promise ? message.then(convert) : convert(message);
  };
}

/** Creates InferenceService's operations over the data plane. */
export function createInferenceRpc(service: PredictionService): InferenceRpc {
  const streamCodec = { request: streamRequestOf, answer: streamAnswerOf, errorAnswer: streamErrorAnswerOf };
  return {
    predict: (context, read) => service.predict(context, converted(read, predictRequestOf)).then(predictResponseOf),
    predictBatch: (context, read) =>
      service.predict(context, converted(read, predictBatchRequestOf)).then(predictBatchResponseOf),
    predictStream: (context, sink) => service.predictStream(context, streamCodec, sink),
    modelInfo: (req) => modelInfoResponseOf(service.modelInfo(req.modelName, req.modelVersion)),
    listModels: () => listModelsResponseOf(service.listModels()),
  };
}
