/**
 * The Open Inference Protocol's model-level operations over the data plane, free of any transport
 * (the REST routes and the gRPC service both call these): which loaded version a request's model
 * name and version select, server and model metadata, readiness, and a request's tensor in the
 * data plane's terms with the outputs it selects. Validation of the tensor against the model, its
 * batching and counting stay the data plane's.
 */
import { createRequire } from "node:module";
import { inferenceErrors } from "../../core/errors/index.js";
import type { TensorSpec } from "../../core/onnx/onnx-signature.js";
import type { RowsOutput } from "../../server/models/model-manager.js";
import type { NumericType, RawTensor } from "../../server/models/tensor-types.js";
import type { ModelInfo, PredictionService, TensorRequest } from "../../server/prediction-service.js";
import { acceptedOipDatatypes, numericTypeOfOip, oipDatatypeOfOnnx } from "./oip-datatypes.js";

/** The server name ServerMetadata answers. */
export const oipServerName = "mlpipe";

/** mlpipe's version (package.json), as ServerMetadata answers it. */
export const oipServerVersion: string = (createRequire(import.meta.url)("../../package.json") as { version: string })
  .version;

/** The protocol extensions served (Triton's names): the binary tensor data of the REST API. */
export const oipExtensions: readonly string[] = ["binary_tensor_data"];

/** ONNX models run on onnxruntime: Triton's platform name for them. */
const platform = "onnxruntime_onnx";

/**
 * The loaded version a request's model `name` (one of the served models; "" for the default one)
 * and `version` (a version number, stage or alias; "" for the served one) select:
 * INFERENCE_MODEL_NOT_FOUND, INFERENCE_MODEL_VERSION_NOT_FOUND or INFERENCE_MODEL_NOT_READY from
 * the data plane otherwise. Requests then pass `name` and `version` to the data plane, which
 * routes them as every surface's.
 */
export function oipModel(service: PredictionService, name: string, version: string): ModelInfo {
  return service.modelInfo(name === "" ? undefined : name, version);
}

/** Checks, before anything is computed, that the model has every output a request names (INFERENCE_INVALID_INPUT naming the first it lacks). */
export function oipCheckOutputs(info: ModelInfo, requested: readonly string[]): void {
  requested.forEach((name, i) => {
    if (!info.outputs.some((o) => o.name === name)) {
      throw inferenceErrors.invalidInput(
        `outputs[${i}].name`,
        `the model has no output "${name}" (it has ${info.outputs.map((o) => `"${o.name}"`).join(", ")})`,
      );
    }
  });
}

/** A tensor's name, protocol data type and shape, as metadata lists them. */
export interface OipTensorMetadata {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

/** What model metadata answers (REST and gRPC alike). */
export interface OipModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly OipTensorMetadata[];
  readonly outputs: readonly OipTensorMetadata[];
}

function tensorMetadata(spec: TensorSpec): OipTensorMetadata {
  return { name: spec.name, datatype: oipDatatypeOfOnnx(spec.dtype), shape: spec.shape };
}

/** The metadata of the version `name` and `version` select. */
export function oipModelMetadata(service: PredictionService, name: string, version: string): OipModelMetadata {
  const info = oipModel(service, name, version);
  return {
    name: info.name,
    versions: [info.version],
    platform,
    inputs: info.inputs.map(tensorMetadata),
    outputs: info.outputs.map(tensorMetadata),
  };
}

/** True when the version `name` and `version` select is loaded and the server takes requests; throws INFERENCE_MODEL_NOT_FOUND / INFERENCE_MODEL_VERSION_NOT_FOUND for one it does not know. */
export function oipModelReady(service: PredictionService, name: string, version: string): boolean {
  try {
    oipModel(service, name, version);
  } catch (err) {
    if (inferenceErrors.modelNotReady.is(err) || inferenceErrors.shuttingDown.is(err)) return false;
    throw err;
  }
  return service.modelReady(name);
}

/** An input tensor of a request, decoded from either transport: its elements as little-endian bytes. */
export interface OipInputTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  /** The elements, row-major, little-endian, of the type `datatype` names. */
  readonly data: Uint8Array;
}

/** The element type of input `index`'s `datatype`, or INFERENCE_INVALID_INPUT naming the types that fit. */
export function oipInputType(datatype: string, index: number): NumericType {
  const dtype = numericTypeOfOip(datatype);
  if (dtype === undefined) {
    throw inferenceErrors.invalidInput(
      `inputs[${index}].datatype`,
      `"${datatype}" is not one of ${acceptedOipDatatypes}`,
    );
  }
  return dtype;
}

/**
 * The data plane's request for a protocol request's inputs: the model takes one input tensor
 * (INFERENCE_INVALID_INPUT for none or several); its name, shape, type and size are checked by
 * the data plane like every other surface's tensors, and named `inputs[0].*` in errors.
 */
export function oipTensorRequest(
  inputs: readonly OipInputTensor[],
  modelName: string,
  modelVersion: string,
): TensorRequest {
  const only = inputs[0];
  if (only === undefined) throw inferenceErrors.invalidInput("inputs", "must hold the model's input tensor");
  if (inputs.length > 1) {
    throw inferenceErrors.invalidInput("inputs", `the model takes one input tensor, got ${inputs.length}`);
  }
  return {
    kind: "tensor",
    tensor: { dtype: oipInputType(only.datatype, 0), shape: only.shape, data: only.data, name: only.name },
    modelName,
    modelVersion,
    form: "tensors",
    field: "inputs[0]",
  };
}

/**
 * The outputs a request asked for, in its order (every output of the model, in the model's
 * order, when it named none); names were checked before computing ({@link oipCheckOutputs}), so a
 * missing one means a new version was swapped in meanwhile: INFERENCE_INVALID_INPUT all the same.
 */
export function oipSelectOutputs(outputs: RowsOutput, requested: readonly string[]): [string, RawTensor][] {
  if (requested.length === 0) return [...outputs];
  return requested.map((name, i) => {
    const tensor = outputs.get(name);
    if (tensor === undefined)
      throw inferenceErrors.invalidInput(`outputs[${i}].name`, `the model has no output "${name}"`);
    return [name, tensor];
  });
}
