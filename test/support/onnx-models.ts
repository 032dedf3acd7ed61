/**
 * Test models: real ONNX files written with training/onnx-model-builder.ts into a temporary
 * directory, plus the reference maths to check what onnxruntime answers.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildLinearClassifier, buildLinearRegressor } from "../../training/onnx-model-builder.js";

/** Iris-like classifier weights [4 features][3 classes] (setosa, versicolor, virginica). */
export const irisWeights: readonly (readonly number[])[] = [
  [0.4, 0.0, -0.4],
  [1.0, -0.3, -0.7],
  [-2.2, 0.1, 2.1],
  [-1.0, -0.8, 1.8],
];

/** Bias per class of {@link irisWeights}. */
export const irisBias: readonly number[] = [8.0, 2.5, -10.5];

/** A second, different classifier (every class score shifted), to tell versions apart in swap tests. */
export const irisWeightsB: readonly (readonly number[])[] = irisWeights.map((row) => row.map((w) => w * 0.5));

/** Regression weights over 4 features. */
export const regressionWeights: readonly number[] = [0.5, -1.5, 2.0, 0.25];

/** Regression bias. */
export const regressionBias = 3;

/** Reference softmax probabilities of a linear classifier, in float64. */
export function referenceProbabilities(
  weights: readonly (readonly number[])[],
  bias: readonly number[],
  features: readonly number[],
): number[] {
  const logits = bias.map((b, c) => features.reduce((acc, x, f) => acc + x * (weights[f]?.[c] ?? 0), b));
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Paths of the test models written by {@link writeTestModels}. */
export interface TestModels {
  readonly dir: string;
  /** The iris-like classifier (version A). */
  readonly iris: string;
  /** A second classifier with other weights (version B). */
  readonly irisB: string;
  /** The linear regressor. */
  readonly regression: string;
}

/** Writes the test models into a fresh temporary directory. */
export function writeTestModels(): TestModels {
  const dir = mkdtempSync(join(tmpdir(), "mlpipe-models-"));
  const write = (name: string, bytes: Uint8Array): string => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };
  return {
    dir,
    iris: write("iris.onnx", buildLinearClassifier({ weights: irisWeights, bias: irisBias, name: "iris" })),
    irisB: write("iris-b.onnx", buildLinearClassifier({ weights: irisWeightsB, bias: irisBias, name: "iris_b" })),
    regression: write("regression.onnx", buildLinearRegressor({ weights: regressionWeights, bias: regressionBias })),
  };
}
