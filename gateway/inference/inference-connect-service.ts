/**
 * The gRPC / Connect / gRPC-Web front of the prediction service (mlpipe.inference.v1): decodes
 * requests, calls the transport-agnostic PredictionService, encodes results. Deadlines (gRPC
 * `grpc-timeout`, Connect `connect-timeout-ms`) and client cancellation reach the batching queue
 * through the call's signal and remaining time.
 */
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { inferenceErrors, toErrorData } from "../../core/errors/index.js";
import {
  DataType,
  type InferenceService,
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
  type Tensor,
  TensorSchema,
  type TensorSpec as TensorSpecMessage,
  TensorSpecSchema,
} from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { cancelSignalOf } from "../../server/batching/cancellation.js";
import type { TensorSpec } from "../../server/models/onnx-signature.js";
import type { Prediction as ServerPrediction } from "../../server/models/prediction-reader.js";
import type { NumericType, RawTensor } from "../../server/models/tensor-types.js";
import type {
  CallContext,
  PredictionService,
  PredictResult,
  Protocol,
  ResultForm,
  TensorInput,
} from "../../server/prediction-service.js";

const toDataType: Record<NumericType, DataType> = {
  float32: DataType.FLOAT32,
  float64: DataType.FLOAT64,
  int32: DataType.INT32,
  int64: DataType.INT64,
};

function fromDataType(t: DataType): NumericType | undefined {
  switch (t) {
    case DataType.FLOAT32:
      return "float32";
    case DataType.FLOAT64:
      return "float64";
    case DataType.INT32:
      return "int32";
    case DataType.INT64:
      return "int64";
    default:
      return undefined;
  }
}

function protocolOf(ctx: HandlerContext): Protocol {
  if (ctx.protocolName === "grpc") return "grpc";
  if (ctx.protocolName === "grpc-web") return "grpc_web";
  return "connect";
}

/** The call context of an RPC: its remaining time as a deadline and its signal. */
export function callContext(ctx: HandlerContext, receivedAt: number): CallContext {
  const remaining = ctx.timeoutMs();
  return {
    receivedAt,
    signal: cancelSignalOf(ctx.signal),
    deadline: remaining === undefined ? undefined : receivedAt + remaining,
  };
}

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

/** The server's form of a request's ResponseForm. */
function resultForm(form: ResponseForm): ResultForm {
  return form === ResponseForm.TENSORS ? "tensors" : "predictions-and-tensors";
}

/** A request's tensor as the prediction service takes it; a shape dimension beyond 2^53 becomes -1 (rejected there). */
function tensorInput(t: Tensor | undefined): TensorInput {
  const inputs = t ?? create(TensorSchema);
  const shape = inputs.shape.map((d) => (d >= 0n && d <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(d) : -1));
  return { dtype: fromDataType(inputs.dtype), shape, data: inputs.data, name: inputs.name };
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

/** Predicts the tensor of a PredictBatch request or a PredictStream message, in the form it asks for. */
function predictTensorOf(
  service: PredictionService,
  req: { readonly inputs?: Tensor | undefined; readonly modelVersion: string; readonly responseForm: ResponseForm },
  context: CallContext,
): Promise<PredictResult> {
  return service.predictTensor(tensorInput(req.inputs), req.modelVersion, context, resultForm(req.responseForm));
}

/** Answers a Predict call: the row's prediction, the version that answered and the latency. */
export async function predictAnswer(
  service: PredictionService,
  req: PredictRequest,
  context: CallContext,
): Promise<PredictResponse> {
  const r = await service.predictRows([req.features], req.modelVersion, context, () => "features");
  const first = r.predictions[0];
  return create(PredictResponseSchema, {
    ...(first === undefined ? {} : { prediction: prediction(first) }),
    modelVersion: r.modelVersion,
    latencyMs: r.latencyMs,
  });
}

/** Answers a PredictBatch call: per-row predictions (unless only tensors were asked for) and the raw outputs. */
export async function predictBatchAnswer(
  service: PredictionService,
  req: PredictBatchRequest,
  context: CallContext,
): Promise<PredictBatchResponse> {
  const r = await predictTensorOf(service, req, context);
  return create(PredictBatchResponseSchema, {
    ...tensorAnswer(r),
    modelVersion: r.modelVersion,
    latencyMs: r.latencyMs,
  });
}

/** The PredictStream answer to a message that failed: its error, in the message, for its request_id. */
export function streamErrorAnswer(req: PredictStreamRequest, err: unknown): PredictStreamResponse {
  const data = toErrorData(err);
  return create(PredictStreamResponseSchema, {
    requestId: req.requestId,
    result: { case: "error", value: { code: data.code, id: data.id, message: data.message, field: data.field ?? "" } },
  });
}

/**
 * Answers one PredictStream message: one row (`features`) in `result.prediction`, or a tensor of
 * rows (`inputs`) in `predictions` and `outputs`, as PredictBatch would. Setting both is INVALID_ARGUMENT.
 */
export async function streamAnswer(
  service: PredictionService,
  req: PredictStreamRequest,
  context: CallContext,
): Promise<PredictStreamResponse> {
  if (req.inputs === undefined) {
    const r = await service.predictRows([req.features], req.modelVersion, context, () => "features");
    const first = r.predictions[0];
    return create(PredictStreamResponseSchema, {
      requestId: req.requestId,
      result: first === undefined ? { case: undefined } : { case: "prediction", value: prediction(first) },
      modelVersion: r.modelVersion,
      latencyMs: r.latencyMs,
    });
  }
  if (req.features.length > 0) throw inferenceErrors.invalidInput("features", "set features or inputs, not both");
  const r = await predictTensorOf(service, req, context);
  return create(PredictStreamResponseSchema, {
    requestId: req.requestId,
    ...tensorAnswer(r),
    modelVersion: r.modelVersion,
    latencyMs: r.latencyMs,
  });
}

/** Implements InferenceService over the prediction service; counts every call in prediction_requests_total. */
export function createInferenceGrpcService(service: PredictionService): ServiceImpl<typeof InferenceService> {
  async function counted<T>(ctx: HandlerContext, call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      service.countRequest(protocolOf(ctx), undefined);
      return result;
    } catch (err) {
      service.countRequest(protocolOf(ctx), err);
      throw err;
    }
  }

  return {
    predict(req, ctx) {
      const receivedAt = performance.now();
      return counted(ctx, () => predictAnswer(service, req, callContext(ctx, receivedAt)));
    },
    predictBatch(req, ctx) {
      const receivedAt = performance.now();
      return counted(ctx, () => predictBatchAnswer(service, req, callContext(ctx, receivedAt)));
    },
    async *predictStream(requests, ctx) {
      const protocol = protocolOf(ctx);
      const ready: PredictStreamResponse[] = [];
      let wake: (() => void) | undefined;
      let pending = 0;
      let inputDone = false;
      let inputError: unknown;
      const push = (r: PredictStreamResponse): void => {
        ready.push(r);
        wake?.();
      };
      void (async () => {
        try {
          for await (const req of requests) {
            const receivedAt = performance.now();
            pending++;
            streamAnswer(service, req, callContext(ctx, receivedAt))
              .then(
                (r) => {
                  service.countRequest(protocol, undefined);
                  return r;
                },
                (err: unknown) => {
                  service.countRequest(protocol, err);
                  return streamErrorAnswer(req, err);
                },
              )
              .then((r) => {
                pending--;
                push(r);
              });
          }
        } catch (err) {
          inputError = err;
        } finally {
          inputDone = true;
          wake?.();
        }
      })();
      for (;;) {
        const next = ready.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (inputError !== undefined) throw inputError;
        if (inputDone && pending === 0) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
    modelInfo(req) {
      const info = service.modelInfo(req.modelVersion);
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
    },
  };
}
