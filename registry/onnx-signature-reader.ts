/**
 * Checks that bytes are an ONNX model onnxruntime can load, and reads its signature: the name,
 * element type and shape of each input and output, as onnxruntime-node (1.30) reports them in
 * `InferenceSession.inputMetadata` / `outputMetadata`. Loading the model is the check: a file
 * that parses as protobuf but that onnxruntime refuses (unknown operator, bad graph) is not a
 * model the platform could serve, so it must not be registered as READY.
 */
import { create } from "@bufbuild/protobuf";
import { InferenceSession } from "onnxruntime-node";
import {
  DimensionSchema,
  type ModelSignature,
  ModelSignatureSchema,
  type TensorSpec,
  TensorSpecSchema,
} from "../gen/mlpipe/registry/v1/registry_pb.js";

/** The outcome of reading a model: its signature, or why it is not a loadable ONNX model. */
export type OnnxReadResult =
  | { readonly ok: true; readonly signature: ModelSignature }
  | { readonly ok: false; readonly reason: string };

/**
 * Loads `bytes` in an onnxruntime session (CPU, one thread: this is a check, not serving) and
 * returns the signature, or the reason onnxruntime gave for refusing it. Never throws for bad
 * bytes; the session is released before returning.
 */
export async function readOnnxSignature(bytes: Uint8Array): Promise<OnnxReadResult> {
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, {
      executionProviders: ["cpu"],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: "disabled",
    });
  } catch (err) {
    return { ok: false, reason: `not a valid ONNX model: ${err instanceof Error ? err.message : String(err)}` };
  }
  try {
    return {
      ok: true,
      signature: create(ModelSignatureSchema, {
        inputs: session.inputMetadata.map(tensorSpec),
        outputs: session.outputMetadata.map(tensorSpec),
      }),
    };
  } finally {
    await session.release();
  }
}

function tensorSpec(meta: InferenceSession.ValueMetadata): TensorSpec {
  if (!meta.isTensor) return create(TensorSpecSchema, { name: meta.name, isTensor: false });
  return create(TensorSpecSchema, {
    name: meta.name,
    isTensor: true,
    elementType: meta.type,
    shape: meta.shape.map((d) =>
      create(
        DimensionSchema,
        typeof d === "number"
          ? d >= 0
            ? { value: { case: "size", value: BigInt(d) } }
            : {}
          : d === ""
            ? {}
            : { value: { case: "param", value: d } },
      ),
    ),
  });
}
