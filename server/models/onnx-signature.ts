/**
 * Reads what a served model expects and returns from its `.onnx` bytes: the graph inputs (those
 * that are not initializers) and outputs with their element types and shapes, and how to turn the
 * outputs into predictions (a classification label and/or probabilities or logits, or a
 * regression value).
 */
import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema, TensorProto_DataType, type ValueInfoProto } from "../../gen/onnx/onnx_pb.js";
import { isNumericType, type NumericType } from "./tensor-types.js";

/** Name, element type and shape of a model input or output; -1 marks a dynamic dimension. */
export interface TensorSpec {
  readonly name: string;
  /** ONNX element type name ("float32", "int64", "string", ...). */
  readonly dtype: string;
  readonly shape: readonly number[];
}

/** How a model's outputs become predictions. */
export type OutputInterpretation =
  | {
      readonly task: "classification";
      /** An integer output [batch] or [batch, 1] holding the class index, if the model has one. */
      readonly label: string | undefined;
      /** A float output [batch, classes], if the model has one. */
      readonly scores: string | undefined;
      /** Whether `scores` are logits (softmax applied by the server) rather than probabilities. */
      readonly scoresAreLogits: boolean;
    }
  | {
      readonly task: "regression";
      /** A float output [batch] or [batch, 1]. */
      readonly value: string;
    };

/** What the server needs to know about a model to batch rows into it and read its answers. */
export interface ModelSignature {
  readonly inputs: readonly TensorSpec[];
  /** Tensor outputs only (non-tensor outputs such as ZipMap maps are left out and never fetched). */
  readonly outputs: readonly TensorSpec[];
  /** The one input rows are batched into: [batch, features]. */
  readonly input: { readonly name: string; readonly dtype: NumericType; readonly features: number };
  readonly interpretation: OutputInterpretation;
}

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
};

/** Thrown for a file that is not an ONNX model or whose signature the server cannot serve. */
export class UnsupportedModelError extends Error {
  override readonly name = "UnsupportedModelError";
}

function spec(v: ValueInfoProto): TensorSpec | undefined {
  if (v.type?.value.case !== "tensorType") return undefined;
  const t = v.type.value.value;
  return {
    name: v.name,
    dtype: typeNames[t.elemType] ?? `onnx_type_${t.elemType}`,
    shape: (t.shape?.dim ?? []).map((d) => (d.value.case === "dimValue" ? Number(d.value.value) : -1)),
  };
}

function isRowVector(s: TensorSpec): boolean {
  return s.shape.length === 1 || (s.shape.length === 2 && s.shape[1] === 1);
}

/** Parses `.onnx` bytes and derives the signature; throws {@link UnsupportedModelError} with a reason. */
export function readSignature(bytes: Uint8Array): ModelSignature {
  let model: ReturnType<typeof fromBinary<typeof ModelProtoSchema>>;
  try {
    model = fromBinary(ModelProtoSchema, bytes, { readUnknownFields: false });
  } catch (err) {
    throw new UnsupportedModelError(`not an ONNX model (${err instanceof Error ? err.message : String(err)})`);
  }
  const graph = model.graph;
  if (graph === undefined || graph.output.length === 0) throw new UnsupportedModelError("the model has no graph");
  const constants = new Set(graph.initializer.map((t) => t.name));
  const inputs = graph.input.filter((v) => !constants.has(v.name)).map(spec);
  const outputs = graph.output.map(spec).filter((s): s is TensorSpec => s !== undefined);
  if (inputs.length !== 1 || inputs[0] === undefined) {
    throw new UnsupportedModelError(`the model must have exactly one tensor input, it has ${inputs.length}`);
  }
  const input = inputs[0];
  const features = input.shape[1];
  if (input.shape.length !== 2 || features === undefined || features < 1) {
    throw new UnsupportedModelError(`input ${input.name} must have shape [batch, features] with fixed features`);
  }
  if (!isNumericType(input.dtype)) {
    throw new UnsupportedModelError(`input ${input.name} has unsupported element type ${input.dtype}`);
  }
  const usable = outputs.filter((o) => isNumericType(o.dtype));
  const label = usable.find((o) => (o.dtype === "int64" || o.dtype === "int32") && isRowVector(o));
  const scores = usable.find(
    (o) => (o.dtype === "float32" || o.dtype === "float64") && o.shape.length === 2 && o.shape[1] !== 1,
  );
  let interpretation: OutputInterpretation;
  if (label !== undefined || scores !== undefined) {
    interpretation = {
      task: "classification",
      label: label?.name,
      scores: scores?.name,
      scoresAreLogits: scores !== undefined && /logit/i.test(scores.name),
    };
  } else {
    const value = usable.find((o) => (o.dtype === "float32" || o.dtype === "float64") && isRowVector(o));
    if (value === undefined) {
      throw new UnsupportedModelError("no output is a class label, class scores [batch, classes] or a value [batch]");
    }
    interpretation = { task: "regression", value: value.name };
  }
  return {
    inputs: [input],
    outputs: usable,
    input: { name: input.name, dtype: input.dtype, features },
    interpretation,
  };
}
