/**
 * Checks that bytes are an ONNX model onnxruntime can load, and returns its signature as the
 * registry records it. Loading the model is the check: a file that parses as protobuf but that
 * onnxruntime refuses (unknown operator, bad graph, unsupported type) is not a model the
 * platform could serve, so it must not be registered as READY. The signature itself comes from
 * the one reader of core/onnx, converted to the registry's proto message.
 */
import { create } from "@bufbuild/protobuf";
import { type OnnxValue, readOnnxSignature } from "../core/onnx/onnx-signature.js";
import { ort } from "../core/onnx/onnxruntime.js";
import {
  DimensionSchema,
  type ModelSignature,
  ModelSignatureSchema,
  type TensorSpec as TensorSpecMessage,
  TensorSpecSchema,
} from "../gen/mlpipe/registry/v1/registry_pb.js";

/** The outcome of checking a model: its signature, or why it is not a loadable ONNX model. */
export type OnnxCheckResult =
  | { readonly ok: true; readonly signature: ModelSignature }
  | { readonly ok: false; readonly reason: string };

/**
 * Loads `bytes` in an onnxruntime session (CPU, one thread: this is a check, not serving) and
 * returns the signature, or the reason the model was refused. Never throws for bad bytes; the
 * session is released before returning.
 */
export async function checkOnnxModel(bytes: Uint8Array): Promise<OnnxCheckResult> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ["cpu"],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: "disabled",
    });
  } catch (err) {
    return { ok: false, reason: `not a valid ONNX model: ${err instanceof Error ? err.message : String(err)}` };
  }
  await session.release();
  try {
    const read = readOnnxSignature(bytes);
    return {
      ok: true,
      signature: create(ModelSignatureSchema, {
        inputs: read.inputs.map(tensorSpecMessage),
        outputs: read.outputs.map(tensorSpecMessage),
      }),
    };
  } catch (err) {
    // onnxruntime also loads its own ORT format, which is not a ModelProto.
    return { ok: false, reason: `not an ONNX model file: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** A graph value as the registry's TensorSpec message: fixed sizes, symbolic names, or unknown. */
function tensorSpecMessage(value: OnnxValue): TensorSpecMessage {
  if (value.kind === "other") return create(TensorSpecSchema, { name: value.name, isTensor: false });
  const { spec, dimParams } = value;
  return create(TensorSpecSchema, {
    name: spec.name,
    isTensor: true,
    elementType: spec.dtype,
    shape: spec.shape.map((size, i) => {
      const param = dimParams[i] ?? "";
      return create(
        DimensionSchema,
        size >= 0
          ? { value: { case: "size", value: BigInt(size) } }
          : param === ""
            ? {}
            : { value: { case: "param", value: param } },
      );
    }),
  });
}
