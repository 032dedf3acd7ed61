import { describe, expect, it } from "vitest";
import { ort } from "../core/onnx/onnxruntime.js";
import { TensorProto_DataType } from "../gen/onnx/onnx_pb.js";
import { irisBias, irisWeights, regressionBias, regressionWeights } from "../test/support/onnx-models.js";
import {
  buildLinearClassifier,
  buildLinearRegressor,
  buildModel,
  node,
  serializeModel,
  tensorValue,
} from "../training/onnx-model-builder.js";
import { checkOnnxModel } from "./onnx-model-check.js";

/** The signature as onnxruntime's session metadata gives it: [name, type, dims (size, name or "?")]. */
async function onnxruntimeView(bytes: Uint8Array): Promise<unknown> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const view = (metas: readonly ort.InferenceSession.ValueMetadata[]) =>
      metas.map((m) => (m.isTensor ? [m.name, m.type, m.shape.map((d) => (d === "" ? "?" : d))] : [m.name]));
    return { inputs: view(session.inputMetadata), outputs: view(session.outputMetadata) };
  } finally {
    await session.release();
  }
}

/** The same view of what the registry records. */
async function registryView(bytes: Uint8Array): Promise<unknown> {
  const checked = await checkOnnxModel(bytes);
  if (!checked.ok) throw new Error(checked.reason);
  const view = (specs: NonNullable<typeof checked.signature>["inputs"]) =>
    specs.map((s) =>
      s.isTensor
        ? [
            s.name,
            s.elementType,
            s.shape.map((d) =>
              d.value.case === undefined
                ? "?"
                : typeof d.value.value === "bigint"
                  ? Number(d.value.value)
                  : d.value.value,
            ),
          ]
        : [s.name],
    );
  return { inputs: view(checked.signature.inputs), outputs: view(checked.signature.outputs) };
}

describe("checkOnnxModel", () => {
  const models: [string, Uint8Array][] = [
    ["a classifier", buildLinearClassifier({ weights: irisWeights, bias: irisBias })],
    ["a regressor", buildLinearRegressor({ weights: regressionWeights, bias: regressionBias })],
    [
      "a model with fixed, named and unnamed dimensions",
      serializeModel(
        buildModel({
          name: "identity",
          inputs: [tensorValue("x", TensorProto_DataType.INT32, ["n", 2, ""])],
          outputs: [tensorValue("y", TensorProto_DataType.INT32, ["n", 2, ""])],
          nodes: [node("Identity", ["x"], ["y"])],
        }),
      ),
    ],
  ];

  it.each(models)("records the signature of %s as onnxruntime reports it", async (_, bytes) => {
    expect(await registryView(bytes)).toEqual(await onnxruntimeView(bytes));
  });

  it("refuses what onnxruntime cannot load, with its reason", async () => {
    const unknownOp = serializeModel(
      buildModel({
        name: "bad",
        inputs: [tensorValue("x", TensorProto_DataType.FLOAT, [1])],
        outputs: [tensorValue("y", TensorProto_DataType.FLOAT, [1])],
        nodes: [node("NoSuchOperator", ["x"], ["y"])],
      }),
    );
    for (const bytes of [new Uint8Array([1, 2, 3]), unknownOp]) {
      const checked = await checkOnnxModel(bytes);
      expect(checked.ok).toBe(false);
      if (!checked.ok) expect(checked.reason).toMatch(/^not a valid ONNX model: /);
    }
  });
});
