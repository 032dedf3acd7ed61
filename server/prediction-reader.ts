/**
 * Turns a model's output tensors into predictions: a class index with its probability (softmax
 * applied to logits), or a regression value.
 */
import type { OutputInterpretation } from "./onnx/onnx-signature.js";
import { type NumericType, numberAt, type RawTensor, view } from "./tensor-types.js";

/** The answer for one row. */
export interface Prediction {
  /** Class index (classification) or value (regression). */
  readonly prediction: number;
  /** Probability of the predicted class (classification with scores). */
  readonly probability?: number;
  /** Probability of every class (classification with scores). */
  readonly probabilities?: readonly number[];
}

function columns(t: RawTensor): number {
  return t.shape.slice(1).reduce((a, b) => a * b, 1);
}

function softmax(xs: number[]): number[] {
  const max = Math.max(...xs);
  const exps = xs.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Reads `rows` predictions from output tensors (by name) of shape [rows, ...]. */
export function readPredictions(
  interpretation: OutputInterpretation,
  outputs: ReadonlyMap<string, RawTensor>,
  rows: number,
): Prediction[] {
  const get = (name: string | undefined): { t: RawTensor; v: ReturnType<typeof view> } | undefined => {
    const t = name === undefined ? undefined : outputs.get(name);
    return t === undefined ? undefined : { t, v: view(t.dtype as NumericType, t.data) };
  };
  const out: Prediction[] = [];
  if (interpretation.task === "regression") {
    const value = get(interpretation.value);
    for (let r = 0; r < rows; r++) {
      out.push({ prediction: value === undefined ? Number.NaN : numberAt(value.v, r * columns(value.t)) });
    }
    return out;
  }
  const label = get(interpretation.label);
  const scores = get(interpretation.scores);
  for (let r = 0; r < rows; r++) {
    let probabilities: number[] | undefined;
    if (scores !== undefined) {
      const c = columns(scores.t);
      const row = Array.from({ length: c }, (_, i) => numberAt(scores.v, r * c + i));
      probabilities = interpretation.scoresAreLogits ? softmax(row) : row;
    }
    let prediction: number;
    if (label !== undefined) prediction = numberAt(label.v, r * columns(label.t));
    else {
      const p = probabilities ?? [];
      prediction = p.indexOf(Math.max(...p));
    }
    if (probabilities === undefined) out.push({ prediction });
    else {
      const probability = probabilities[prediction] ?? Math.max(...probabilities);
      out.push({ prediction, probability, probabilities });
    }
  }
  return out;
}
