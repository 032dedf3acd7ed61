/**
 * The messages of mlpipe.inference.v1 in the data plane's terms and back: requests become
 * PredictionRequests, results become responses, stream errors become StreamError answers. Every
 * transport of InferenceService (the gRPC fast path, the Connect service) converts through these,
 * so the protobuf surface answers alike whichever carried it.
 */
import { create } from "@bufbuild/protobuf";
import { inferenceErrors, toErrorData } from "../../core/errors/index.js";
import type { TensorSpec } from "../../core/onnx/onnx-signature.js";
import {
  DataType,
  type ListModelsResponse,
  ListModelsResponseSchema,
  type ModelInfoResponse,
  ModelInfoResponseSchema,
  ModelTask,
  type PredictBatchRequest,
  type PredictBatchResponse,
  PredictBatchResponseSchema,
  type Prediction,
  PredictionSchema,
  type PredictRequest,
  type PredictResponse,
  PredictResponseSchema,
  type PredictStreamRequest,
  type PredictStreamResponse,
  PredictStreamResponseSchema,
  ResponseForm,
  ServedModelSchema,
  ServedRouteSchema,
  type Tensor,
  TensorSchema,
  type TensorSpec as TensorSpecMessage,
  TensorSpecSchema,
} from "../../gen/mlpipe/inference/v1/inference_pb.js";
import type { Prediction as ServerPrediction } from "../../server/models/prediction-reader.js";
import type { NumericType, RawTensor } from "../../server/models/tensor-types.js";
import type {
  ModelInfo,
  PredictionRequest,
  PredictResult,
  RowsRequest,
  ServedModelInfo,
  TensorRequest,
} from "../../server/prediction-service.js";

const toDataType: Record<NumericType, DataType> = {
  float32: DataType.FLOAT32,
  float64: DataType.FLOAT64,
  int32: DataType.INT32,
  int64: DataType.INT64,
};

const fromDataTypes = new Map<DataType, NumericType>(
  Object.entries(toDataType).map(([type, dataType]) => [dataType, type as NumericType]),
);

function prediction(p: ServerPrediction): Prediction {
  return create(PredictionSchema, {
    prediction: p.prediction,
    ...(p.probability === undefined ? {} : { probability: p.probability }),
    // The array is this row's own (built by readPredictions): no copy.
    ...(p.probabilities === undefined ? {} : { probabilities: p.probabilities as number[] }),
  });
}

/** An output tensor as a message: its bytes are a view of the worker's transferred buffer, not a copy. */
function tensor(name: string, t: RawTensor): Tensor {
  return create(TensorSchema, {
    name,
    dtype: toDataType[t.dtype],
    shape: t.shape.map((d) => BigInt(d)),
    data: new Uint8Array(t.data),
  });
}

/** The answer of a tensor call: per-row predictions (empty for the tensors form) and the raw outputs. */
function tensorAnswer(r: PredictResult): { predictions: Prediction[]; outputs: Tensor[] } {
  const outputs: Tensor[] = [];
  for (const [name, t] of r.outputs) outputs.push(tensor(name, t));
  return { predictions: r.predictions.map(prediction), outputs };
}

function spec(s: TensorSpec): TensorSpecMessage {
  return create(TensorSpecSchema, { name: s.name, dtype: s.dtype, shape: s.shape.map((d) => BigInt(d)) });
}

const featuresField = (): string => "features";

/** The one row of a request's `features`. */
function featuresRequest(req: {
  readonly features: readonly number[];
  readonly modelName: string;
  readonly modelVersion: string;
  readonly routingKey: string;
}): RowsRequest {
  return {
    kind: "rows",
    rows: [req.features],
    field: featuresField,
    modelName: req.modelName,
    modelVersion: req.modelVersion,
    routingKey: req.routingKey,
  };
}

/** A request's tensor in the form it asks for; a shape dimension beyond 2^53 becomes -1 (rejected by the data plane). */
function tensorRequest(req: {
  readonly inputs?: Tensor | undefined;
  readonly modelName: string;
  readonly modelVersion: string;
  readonly routingKey: string;
  readonly responseForm: ResponseForm;
}): TensorRequest {
  const inputs = req.inputs ?? create(TensorSchema);
  const shape = inputs.shape.map((d) => (d >= 0n && d <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(d) : -1));
  return {
    kind: "tensor",
    tensor: { dtype: fromDataTypes.get(inputs.dtype), shape, data: inputs.data, name: inputs.name },
    modelName: req.modelName,
    modelVersion: req.modelVersion,
    routingKey: req.routingKey,
    form: req.responseForm === ResponseForm.TENSORS ? "tensors" : "predictions-and-tensors",
  };
}

/** The request of a Predict call: its one row. */
export function predictRequestOf(req: PredictRequest): PredictionRequest {
  return featuresRequest(req);
}

/** The response of a Predict call: the row's prediction, the version that answered and the latency. */
export function predictResponseOf(r: PredictResult): PredictResponse {
  const first = r.predictions[0];
  return create(PredictResponseSchema, {
    ...(first === undefined ? {} : { prediction: prediction(first) }),
    modelVersion: r.modelVersion,
    latencyMs: r.latencyMs,
  });
}

/** The request of a PredictBatch call: its tensor of rows. */
export function predictBatchRequestOf(req: PredictBatchRequest): PredictionRequest {
  return tensorRequest(req);
}

/** The response of a PredictBatch call: per-row predictions (unless only tensors were asked for) and the raw outputs. */
export function predictBatchResponseOf(r: PredictResult): PredictBatchResponse {
  return create(PredictBatchResponseSchema, {
    ...tensorAnswer(r),
    modelVersion: r.modelVersion,
    latencyMs: r.latencyMs,
  });
}

/**
 * The request of one PredictStream message: one row (`features`), or a tensor of rows (`inputs`)
 * as PredictBatch would take it. Setting both is INVALID_ARGUMENT.
 */
export function streamRequestOf(req: PredictStreamRequest): PredictionRequest {
  if (req.inputs === undefined) return featuresRequest(req);
  if (req.features.length > 0) throw inferenceErrors.invalidInput("features", "set features or inputs, not both");
  return tensorRequest(req);
}

/** The answer to one PredictStream message, for its request_id: as Predict or PredictBatch would answer it. */
export function streamAnswerOf(req: PredictStreamRequest, r: PredictResult): PredictStreamResponse {
  if (req.inputs === undefined) {
    const first = r.predictions[0];
    return create(PredictStreamResponseSchema, {
      requestId: req.requestId,
      result: first === undefined ? { case: undefined } : { case: "prediction", value: prediction(first) },
      modelVersion: r.modelVersion,
      latencyMs: r.latencyMs,
    });
  }
  return create(PredictStreamResponseSchema, {
    requestId: req.requestId,
    ...tensorAnswer(r),
    modelVersion: r.modelVersion,
    latencyMs: r.latencyMs,
  });
}

/** The PredictStream answer to a message that failed: its error, in the message, for its request_id. */
export function streamErrorAnswerOf(req: PredictStreamRequest, err: unknown): PredictStreamResponse {
  const data = toErrorData(err);
  return create(PredictStreamResponseSchema, {
    requestId: req.requestId,
    result: { case: "error", value: { code: data.code, id: data.id, message: data.message, field: data.field ?? "" } },
  });
}

/** The ModelInfo response describing a loaded version. */
export function modelInfoResponseOf(info: ModelInfo): ModelInfoResponse {
  return create(ModelInfoResponseSchema, {
    name: info.name,
    version: info.version,
    stage: info.stage,
    aliases: [...info.aliases],
    source: info.source,
    loadedAtMs: BigInt(info.loadedAt),
    inputs: info.inputs.map(spec),
    outputs: info.outputs.map(spec),
    task: info.task === "classification" ? ModelTask.CLASSIFICATION : ModelTask.REGRESSION,
    serving: info.serving,
  });
}

/** The ListModels response: every served model with its loaded versions. */
export function listModelsResponseOf(models: readonly ServedModelInfo[]): ListModelsResponse {
  return create(ListModelsResponseSchema, {
    models: models.map((m) =>
      create(ServedModelSchema, {
        name: m.name,
        isDefault: m.isDefault,
        ready: m.ready,
        follows: m.follows,
        versions: m.versions.map(modelInfoResponseOf),
        statusMessage: m.statusMessage,
        routes: m.routes.map((r) => create(ServedRouteSchema, r)),
      }),
    ),
  });
}
