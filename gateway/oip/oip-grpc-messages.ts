/**
 * The messages of inference.GRPCInferenceService (the Open Inference Protocol over gRPC) in the data
 * plane's terms and back. A ModelInferRequest's input comes as `raw_input_contents` (little-endian
 * bytes, used as they are) or typed `contents` (copied into bytes); the answer carries its outputs
 * the same way the request came: `raw_output_contents` for a raw request (what tritonclient
 * sends and reads), typed `contents` otherwise. Every transport of the service converts through
 * these, so gRPC, gRPC-Web and Connect answer alike.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { inferenceErrors, toErrorData } from "../../core/errors/index.js";
import {
  type InferTensorContents,
  type InferTensorContentsSchema,
  type ModelInferRequest,
  type ModelInferResponse,
  type ModelInferResponse_InferOutputTensorSchema,
  ModelInferResponseSchema,
  type ModelStreamInferResponse,
  ModelStreamInferResponseSchema,
} from "../../gen/inference/v2/grpc_predict_v2_pb.js";
import { elementCount, type NumericType, type RawTensor, view } from "../../server/models/tensor-types.js";
import type { PredictionService, PredictResult, TensorRequest } from "../../server/prediction-service.js";
import { oipDatatypeOf } from "./oip-datatypes.js";
import {
  type OipInputTensor,
  oipCheckOutputs,
  oipInputType,
  oipModel,
  oipSelectOutputs,
  oipTensorRequest,
} from "./oip-model.js";

/** A shape of int64 dimensions as numbers; one beyond 2^53 becomes -1 (rejected by the data plane). */
function shapeOf(shape: readonly bigint[]): number[] {
  return shape.map((d) => (d >= 0n && d <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(d) : -1));
}

/** The typed contents of `dtype` as little-endian bytes, checked against the shape's element count. */
function bytesOfContents(
  contents: InferTensorContents | undefined,
  dtype: NumericType,
  shape: number[],
  field: string,
) {
  let array: Float32Array | Float64Array | Int32Array | BigInt64Array;
  switch (dtype) {
    case "float32":
      array = Float32Array.from(contents?.fp32Contents ?? []);
      break;
    case "float64":
      array = Float64Array.from(contents?.fp64Contents ?? []);
      break;
    case "int32":
      array = Int32Array.from(contents?.intContents ?? []);
      break;
    case "int64":
      array = BigInt64Array.from(contents?.int64Contents ?? []);
      break;
  }
  const expected = shape.some((d) => d < 0) ? -1 : elementCount(shape);
  if (expected >= 0 && array.length !== expected) {
    throw inferenceErrors.invalidInput(
      `${field}.contents`,
      `expected ${expected} elements for shape [${shape}], got ${array.length}`,
    );
  }
  return new Uint8Array(array.buffer);
}

/** The input tensors of a request, from its raw contents or its typed ones. */
function inputsOf(req: ModelInferRequest): OipInputTensor[] {
  const raw = req.rawInputContents;
  if (raw.length > 0 && raw.length !== req.inputs.length) {
    throw inferenceErrors.invalidInput(
      "raw_input_contents",
      `holds ${raw.length} tensors for ${req.inputs.length} inputs (one per input, in order)`,
    );
  }
  return req.inputs.map((input, i) => {
    const field = `inputs[${i}]`;
    const shape = shapeOf(input.shape);
    const dtype = oipInputType(input.datatype, i);
    const bytes = raw[i];
    if (bytes !== undefined && input.contents !== undefined) {
      throw inferenceErrors.invalidInput(`${field}.contents`, "must not be set with raw_input_contents");
    }
    const data = bytes ?? bytesOfContents(input.contents, dtype, shape, field);
    return { name: input.name, datatype: input.datatype, shape, data };
  });
}

/**
 * The data plane's request for a ModelInferRequest: its model chosen by name and version
 * (oip-model.ts), its requested outputs checked, its one input tensor.
 */
export function modelInferRequestOf(service: PredictionService, req: ModelInferRequest): TensorRequest {
  const info = oipModel(service, req.modelName, req.modelVersion);
  oipCheckOutputs(
    info,
    req.outputs.map((o) => o.name),
  );
  return oipTensorRequest(inputsOf(req), req.modelName, req.modelVersion);
}

/** An output as typed contents. */
function contentsOf(tensor: RawTensor): MessageInitShape<typeof InferTensorContentsSchema> {
  const values = view(tensor.dtype, tensor.data);
  if (values instanceof Float32Array) return { fp32Contents: Array.from(values) };
  if (values instanceof Float64Array) return { fp64Contents: Array.from(values) };
  if (values instanceof Int32Array) return { intContents: Array.from(values) };
  return { int64Contents: Array.from(values) };
}

/** The answer to `req`: the outputs it asked for (all, when none), raw or typed as the request came. */
export function modelInferResponseOf(req: ModelInferRequest, r: PredictResult): ModelInferResponse {
  const raw = req.rawInputContents.length > 0;
  const outputs: MessageInitShape<typeof ModelInferResponse_InferOutputTensorSchema>[] = [];
  const rawOutputContents: Uint8Array[] = [];
  for (const [name, tensor] of oipSelectOutputs(
    r.outputs,
    req.outputs.map((o) => o.name),
  )) {
    const output = {
      name,
      datatype: oipDatatypeOf[tensor.dtype],
      shape: tensor.shape.map((d) => BigInt(d)),
    };
    if (raw) {
      // A view of the worker's transferred buffer, not a copy.
      rawOutputContents.push(new Uint8Array(tensor.data));
      outputs.push(output);
    } else {
      outputs.push({ ...output, contents: contentsOf(tensor) });
    }
  }
  return create(ModelInferResponseSchema, {
    modelName: req.modelName,
    modelVersion: r.modelVersion,
    id: req.id,
    outputs,
    rawOutputContents,
  });
}

/** The ModelStreamInfer answer to a request that failed: its message in `error_message`, with the request's id and model. */
export function modelStreamErrorOf(req: ModelInferRequest, err: unknown): ModelStreamInferResponse {
  return create(ModelStreamInferResponseSchema, {
    errorMessage: toErrorData(err).message,
    inferResponse: { modelName: req.modelName, modelVersion: req.modelVersion, id: req.id },
  });
}

/** The ModelStreamInfer answer to a request the model answered. */
export function modelStreamAnswerOf(req: ModelInferRequest, r: PredictResult): ModelStreamInferResponse {
  return create(ModelStreamInferResponseSchema, { inferResponse: modelInferResponseOf(req, r) });
}
