import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ort } from "../core/onnx/onnxruntime.js";
import { readSignature, UnsupportedModelError } from "../server/models/onnx-signature.js";
import {
  irisBias,
  irisWeights,
  referenceProbabilities,
  regressionBias,
  regressionWeights,
  writeTestModels,
} from "../test/support/onnx-models.js";
import { buildLinearClassifier } from "./onnx-model-builder.js";

const models = writeTestModels();

describe("onnx model builder", () => {
  it("writes a classifier onnxruntime runs with a dynamic batch dimension", async () => {
    const session = await ort.InferenceSession.create(models.iris);
    try {
      expect(session.inputNames).toEqual(["features"]);
      expect(session.outputNames).toEqual(["label", "probabilities"]);
      const rows = [
        [5.1, 3.5, 1.4, 0.2],
        [6.7, 3.0, 5.2, 2.3],
        [5.9, 3.0, 4.2, 1.5],
      ];
      const out = await session.run({ features: new ort.Tensor("float32", Float32Array.from(rows.flat()), [3, 4]) });
      const probs = out.probabilities?.data as Float32Array;
      const labels = out.label?.data as BigInt64Array;
      expect(out.probabilities?.dims).toEqual([3, 3]);
      rows.forEach((row, r) => {
        const want = referenceProbabilities(irisWeights, irisBias, row);
        for (let c = 0; c < 3; c++) expect(probs[r * 3 + c]).toBeCloseTo(want[c] ?? Number.NaN, 4);
        expect(Number(labels[r])).toBe(want.indexOf(Math.max(...want)));
      });
    } finally {
      await session.release();
    }
  });

  it("writes a regressor", async () => {
    const session = await ort.InferenceSession.create(models.regression);
    try {
      const out = await session.run({ features: new ort.Tensor("float32", Float32Array.from([1, 2, 3, 4]), [1, 4]) });
      const want = regressionWeights.reduce((acc, w, i) => acc + w * (i + 1), regressionBias);
      expect(Array.from(out.value?.data as Float32Array)[0]).toBeCloseTo(want, 4);
    } finally {
      await session.release();
    }
  });

  it("reads the signature back from the file", () => {
    const sig = readSignature(readFileSync(models.iris));
    expect(sig.input).toEqual({ name: "features", dtype: "float32", features: 4 });
    expect(sig.outputs).toEqual([
      { name: "label", dtype: "int64", shape: [-1] },
      { name: "probabilities", dtype: "float32", shape: [-1, 3] },
    ]);
    expect(sig.interpretation).toEqual({
      task: "classification",
      label: "label",
      scores: "probabilities",
      scoresAreLogits: false,
    });
    expect(readSignature(readFileSync(models.regression)).interpretation).toEqual({
      task: "regression",
      value: "value",
    });
  });

  it("rejects files that are not models it can serve", () => {
    expect(() => readSignature(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(UnsupportedModelError);
    expect(() => readSignature(new Uint8Array())).toThrow(/no graph/);
    expect(() => buildLinearClassifier({ weights: [[1]], bias: [0] })).toThrow(/two classes/);
  });
});
