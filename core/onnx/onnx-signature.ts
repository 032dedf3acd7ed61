/**
 * Reads what an ONNX model takes and returns from its `.onnx` bytes (the ModelProto): the graph
 * inputs that are not initializers, and the outputs, with their element types and shapes. The one
 * reader of a model's signature: the inference server derives from it how to batch rows into a
 * model and read its answers (server/models/onnx-signature.ts); the registry records it with each
 * version, after loading the model with onnxruntime as its validity check
 * (registry/onnx-model-check.ts). Element type names are onnxruntime's ("float32", "int64", ...).
 */
import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema, TensorProto_DataType, type ValueInfoProto } from "../../gen/onnx/onnx_pb.js";

/** Name, element type and shape of a tensor input or output; -1 marks a dimension of no fixed size. */
export interface TensorSpec {
  readonly name: string;
  /** onnxruntime's element type name ("float32", "int64", "string", ...; `onnx_type_<n>` for others). */
  readonly dtype: string;
  readonly shape: readonly number[];
}

/**
 * One input or output of a graph: a tensor with its spec and the symbolic name of each dimension
 * ("batch"; "" for a fixed or unnamed one), or a value of another type (a sequence, map or
 * optional, e.g. a ZipMap's output).
 */
export type OnnxValue =
  | { readonly kind: "tensor"; readonly spec: TensorSpec; readonly dimParams: readonly string[] }
  | { readonly kind: "other"; readonly name: string };

/** The inputs (initializers left out) and outputs of a model, in the model's order. */
export interface OnnxSignature {
  readonly inputs: readonly OnnxValue[];
  readonly outputs: readonly OnnxValue[];
}

/** The bytes are not an ONNX model (they do not parse as a ModelProto, or it has no graph). */
export class OnnxFormatError extends Error {
  override readonly name = "OnnxFormatError";
}

/** onnxruntime's names of the ONNX element types (TensorProto.DataType). */
const typeNames: Partial<Record<number, string>> = {
  [TensorProto_DataType.FLOAT]: "float32",
  [TensorProto_DataType.UINT8]: "uint8",
  [TensorProto_DataType.INT8]: "int8",
  [TensorProto_DataType.UINT16]: "uint16",
  [TensorProto_DataType.INT16]: "int16",
  [TensorProto_DataType.INT32]: "int32",
  [TensorProto_DataType.INT64]: "int64",
  [TensorProto_DataType.STRING]: "string",
  [TensorProto_DataType.BOOL]: "bool",
  [TensorProto_DataType.FLOAT16]: "float16",
  [TensorProto_DataType.DOUBLE]: "float64",
  [TensorProto_DataType.UINT32]: "uint32",
  [TensorProto_DataType.UINT64]: "uint64",
  [TensorProto_DataType.BFLOAT16]: "bfloat16",
  // UINT4 and INT4 (ONNX 1.16) are newer than the committed onnx.proto; onnxruntime names them so.
  21: "uint4",
  22: "int4",
};

function graphValue(v: ValueInfoProto): OnnxValue {
  if (v.type?.value.case !== "tensorType") return { kind: "other", name: v.name };
  const t = v.type.value.value;
  const dims = t.shape?.dim ?? [];
  return {
    kind: "tensor",
    spec: {
      name: v.name,
      dtype: typeNames[t.elemType] ?? `onnx_type_${t.elemType}`,
      shape: dims.map((d) => (d.value.case === "dimValue" ? Number(d.value.value) : -1)),
    },
    dimParams: dims.map((d) => (d.value.case === "dimParam" ? d.value.value : "")),
  };
}

/**
 * Parses `.onnx` bytes and returns the graph's inputs and outputs; throws {@link OnnxFormatError}
 * with the reason when they are not an ONNX model with a graph that has outputs.
 */
export function readOnnxSignature(bytes: Uint8Array): OnnxSignature {
  let model: ReturnType<typeof fromBinary<typeof ModelProtoSchema>>;
  try {
    model = fromBinary(ModelProtoSchema, bytes, { readUnknownFields: false });
  } catch (err) {
    throw new OnnxFormatError(`not an ONNX model (${err instanceof Error ? err.message : String(err)})`);
  }
  const graph = model.graph;
  if (graph === undefined || graph.output.length === 0) throw new OnnxFormatError("the model has no graph");
  const constants = new Set(graph.initializer.map((t) => t.name));
  return {
    inputs: graph.input.filter((v) => !constants.has(v.name)).map(graphValue),
    outputs: graph.output.map(graphValue),
  };
}
