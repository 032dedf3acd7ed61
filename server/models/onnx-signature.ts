/**
 * What the inference server needs to know about a model, derived from its signature (read by
 * core/onnx): the one input rows are batched into, the tensor outputs, and how to turn the
 * outputs into predictions (a classification label and/or probabilities or logits, or a
 * regression value).
 */
import { OnnxFormatError, readOnnxSignature, type TensorSpec } from "../../core/onnx/onnx-signature.js";
import { isNumericType, type NumericType } from "./tensor-types.js";

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

/** Thrown for a file that is not an ONNX model or whose signature the server cannot serve. */
export class UnsupportedModelError extends Error {
  override readonly name = "UnsupportedModelError";
}

function isRowVector(s: TensorSpec): boolean {
  return s.shape.length === 1 || (s.shape.length === 2 && s.shape[1] === 1);
}

/** Parses `.onnx` bytes and derives the signature; throws {@link UnsupportedModelError} with a reason. */
export function readSignature(bytes: Uint8Array): ModelSignature {
  let read: ReturnType<typeof readOnnxSignature>;
  try {
    read = readOnnxSignature(bytes);
  } catch (err) {
    if (err instanceof OnnxFormatError) throw new UnsupportedModelError(err.message);
    throw err;
  }
  const tensors = (values: typeof read.inputs) => values.map((v) => (v.kind === "tensor" ? v.spec : undefined));
  const inputs = tensors(read.inputs);
  const outputs = tensors(read.outputs).filter((s): s is TensorSpec => s !== undefined);
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
