import { describe, expect, it } from "vitest";
import { readPredictions } from "./prediction-reader.js";
import type { RawTensor } from "./tensor-types.js";

const f32 = (shape: number[], values: number[]): RawTensor => ({
  dtype: "float32",
  shape,
  data: Float32Array.from(values).buffer,
});

describe("readPredictions", () => {
  it("reads label and probabilities of a classifier", () => {
    const outputs = new Map<string, RawTensor>([
      ["label", { dtype: "int64", shape: [2], data: BigInt64Array.from([2n, 0n]).buffer }],
      ["probs", f32([2, 3], [0.1, 0.2, 0.7, 0.5, 0.25, 0.25])],
    ]);
    const got = readPredictions(
      { task: "classification", label: "label", scores: "probs", scoresAreLogits: false },
      outputs,
      2,
    );
    expect(got.map((p) => p.prediction)).toEqual([2, 0]);
    expect(got[0]?.probability).toBeCloseTo(0.7, 6);
    expect(got[1]?.probability).toBeCloseTo(0.5, 6);
  });

  it("applies softmax to logits and takes the arg max when there is no label output", () => {
    const outputs = new Map([["logits", f32([1, 2], [0, Math.log(3)])]]);
    const [p] = readPredictions(
      { task: "classification", label: undefined, scores: "logits", scoresAreLogits: true },
      outputs,
      1,
    );
    expect(p?.prediction).toBe(1);
    expect(p?.probability).toBeCloseTo(0.75, 6);
  });

  it("gives a label without probability when the model has only labels", () => {
    const outputs = new Map<string, RawTensor>([
      ["label", { dtype: "int32", shape: [1, 1], data: Int32Array.from([4]).buffer }],
    ]);
    expect(
      readPredictions(
        { task: "classification", label: "label", scores: undefined, scoresAreLogits: false },
        outputs,
        1,
      ),
    ).toEqual([{ prediction: 4 }]);
  });

  it("reads one value per row of a regressor", () => {
    const outputs = new Map([["value", f32([3, 1], [1.5, -2, 3])]]);
    expect(readPredictions({ task: "regression", value: "value" }, outputs, 3).map((p) => p.prediction)).toEqual([
      1.5, -2, 3,
    ]);
  });
});
