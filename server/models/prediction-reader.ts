/**
 * Turns a model's output tensors into predictions: a class index with its probability (softmax
 * applied to logits), or a regression value.
 */
import type { OutputInterpretation } from "./onnx-signature.js";
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

/** Softmax of `xs` in place (max-subtracted, so large logits do not overflow). */
function softmaxInPlace(xs: number[]): void {
  let max = Number.NEGATIVE_INFINITY;
  for (const x of xs) if (x > max) max = x;
  let sum = 0;
  for (let i = 0; i < xs.length; i++) {
    const e = Math.exp((xs[i] as number) - max);
    xs[i] = e;
    sum += e;
  }
  for (let i = 0; i < xs.length; i++) xs[i] = (xs[i] as number) / sum;
}

/** Index of the largest value (the first one on ties), -1 for none. */
function argmax(xs: readonly number[]): number {
  let best = -1;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] as number;
    if (best < 0 || x > max) {
      max = x;
      best = i;
    }
  }
  return best;
}

/**
 * Reads `rows` predictions from output tensors (by name) of shape [rows, ...]. Plain loops over
 * the typed arrays: this runs once per row of every answer that carries predictions.
 */
export function readPredictions(
  interpretation: OutputInterpretation,
  outputs: ReadonlyMap<string, RawTensor>,
  rows: number,
): Prediction[] {
  const get = (name: string | undefined): { v: ReturnType<typeof view>; c: number } | undefined => {
    const t = name === undefined ? undefined : outputs.get(name);
    return t === undefined ? undefined : { v: view(t.dtype as NumericType, t.data), c: columns(t) };
  };
  const out: Prediction[] = new Array(rows);
  if (interpretation.task === "regression") {
    const value = get(interpretation.value);
    for (let r = 0; r < rows; r++) {
      out[r] = { prediction: value === undefined ? Number.NaN : numberAt(value.v, r * value.c) };
    }
    return out;
  }
  const label = get(interpretation.label);
  const scores = get(interpretation.scores);
  for (let r = 0; r < rows; r++) {
    let probabilities: number[] | undefined;
    if (scores !== undefined) {
      const c = scores.c;
      probabilities = new Array<number>(c);
      for (let i = 0; i < c; i++) probabilities[i] = numberAt(scores.v, r * c + i);
      if (interpretation.scoresAreLogits) softmaxInPlace(probabilities);
    }
    const prediction = label !== undefined ? numberAt(label.v, r * label.c) : argmax(probabilities ?? []);
    if (probabilities === undefined) out[r] = { prediction };
    else {
      const probability = probabilities[prediction] ?? probabilities[argmax(probabilities)] ?? Number.NaN;
      out[r] = { prediction, probability, probabilities };
    }
  }
  return out;
}
