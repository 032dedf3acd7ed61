/**
 * Multinomial logistic (softmax) regression trained by plain full-batch gradient descent on the
 * mean cross-entropy, in float64. Small and dependency-free: meant for the Iris example, not for
 * large data (each epoch is one pass over every row).
 */
import { commonErrors } from "../core/errors/common-errors.js";
import { createSeededRandom } from "./seeded-random.js";

/** A linear classifier: logits = x · weights + bias; weights are [features][classes]. */
export interface LinearModel {
  readonly weights: readonly (readonly number[])[];
  readonly bias: readonly number[];
}

/** Per-feature mean and standard deviation used to standardise inputs: (x - mean) / std. */
export interface Standardization {
  readonly mean: readonly number[];
  /** Population standard deviation; a constant feature gets 1 so it divides safely. */
  readonly std: readonly number[];
}

/** Training progress after one epoch. */
export interface EpochStats {
  /** 1-based epoch number. */
  readonly epoch: number;
  /** Mean cross-entropy (nats) of the model the epoch started with. */
  readonly loss: number;
  /** Fraction of rows (0..1) that model classified correctly. */
  readonly accuracy: number;
}

/** Options of {@link trainSoftmaxRegression}. */
export interface TrainOptions {
  /** Number of classes (labels are 0..classes-1). */
  readonly classes: number;
  /** Full-batch gradient steps, 1..1,000,000. */
  readonly epochs: number;
  /** Step size, > 0. */
  readonly learningRate: number;
  /** Seed of the small random initial weights: the same seed trains the same model. */
  readonly seed: number;
  /** Called after every epoch, awaited (e.g. to log metrics). */
  readonly onEpoch?: (stats: EpochStats) => void | Promise<void>;
}

/** The mean and population standard deviation of every column. */
export function fitStandardization(features: readonly (readonly number[])[]): Standardization {
  const columns = features[0]?.length ?? 0;
  const n = features.length;
  const mean = Array.from({ length: columns }, (_, f) => features.reduce((acc, row) => acc + (row[f] ?? 0), 0) / n);
  const std = mean.map((m, f) => {
    const variance = features.reduce((acc, row) => acc + ((row[f] ?? 0) - m) ** 2, 0) / n;
    return variance > 0 ? Math.sqrt(variance) : 1;
  });
  return { mean, std };
}

/** Applies a standardisation to rows. */
export function standardize(features: readonly (readonly number[])[], s: Standardization): number[][] {
  return features.map((row) => row.map((x, f) => (x - (s.mean[f] ?? 0)) / (s.std[f] ?? 1)));
}

/**
 * Rewrites a model trained on standardised inputs into one taking raw inputs with the same logits:
 * w'[f][c] = w[f][c] / std[f] and b'[c] = b[c] - Σ_f w[f][c] · mean[f] / std[f].
 */
export function foldStandardization(model: LinearModel, s: Standardization): LinearModel {
  const weights = model.weights.map((row, f) => row.map((w) => w / (s.std[f] ?? 1)));
  const bias = model.bias.map((b, c) => weights.reduce((acc, row, f) => acc - (row[c] ?? 0) * (s.mean[f] ?? 0), b));
  return { weights, bias };
}

/** Softmax class probabilities of one row (numerically stable). */
export function predictProbabilities(model: LinearModel, row: readonly number[]): number[] {
  const logits = model.bias.map((b, c) => row.reduce((acc, x, f) => acc + x * (model.weights[f]?.[c] ?? 0), b));
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** The most probable class of one row (the lowest index on a tie, as ONNX ArgMax). */
export function predictClass(model: LinearModel, row: readonly number[]): number {
  return argmax(predictProbabilities(model, row));
}

function argmax(values: readonly number[]): number {
  return values.reduce((best, value, i) => (value > (values[best] ?? -1) ? i : best), 0);
}

/** Mean cross-entropy (nats) and accuracy (0..1) of a model on labelled rows. */
export function evaluate(
  model: LinearModel,
  features: readonly (readonly number[])[],
  labels: readonly number[],
): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  features.forEach((row, i) => {
    const p = predictProbabilities(model, row);
    const label = labels[i] ?? 0;
    loss -= Math.log(Math.max(p[label] ?? 0, Number.MIN_VALUE));
    if (argmax(p) === label) correct++;
  });
  return { loss: loss / features.length, accuracy: correct / features.length };
}

/**
 * Trains a softmax regression by full-batch gradient descent from small seeded random weights
 * (uniform in ±0.01) and zero bias. Deterministic for given data and options. Standardise the
 * features first: unscaled features make the step size hard to choose.
 */
export async function trainSoftmaxRegression(
  features: readonly (readonly number[])[],
  labels: readonly number[],
  options: TrainOptions,
): Promise<LinearModel> {
  const { classes, epochs, learningRate } = options;
  const n = features.length;
  const dims = features[0]?.length ?? 0;
  if (n === 0 || dims === 0) throw commonErrors.invalidArgument("features", "need at least one row and one column");
  if (labels.length !== n) throw commonErrors.invalidArgument("labels", `${labels.length} labels for ${n} rows`);
  if (!Number.isInteger(classes) || classes < 2) throw commonErrors.invalidArgument("classes", "must be at least 2");
  if (labels.some((l) => !Number.isInteger(l) || l < 0 || l >= classes)) {
    throw commonErrors.invalidArgument("labels", `every label must be an integer in 0..${classes - 1}`);
  }
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > 1_000_000) {
    throw commonErrors.invalidArgument("epochs", "must be an integer from 1 to 1,000,000");
  }
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) {
    throw commonErrors.invalidArgument("learningRate", "must be a finite number > 0");
  }

  const random = createSeededRandom(options.seed);
  const weights = Array.from({ length: dims }, () => Array.from({ length: classes }, () => (random() - 0.5) * 0.02));
  const bias = new Array<number>(classes).fill(0);

  for (let epoch = 1; epoch <= epochs; epoch++) {
    const gradW = Array.from({ length: dims }, () => new Array<number>(classes).fill(0));
    const gradB = new Array<number>(classes).fill(0);
    let loss = 0;
    let correct = 0;
    const model = { weights, bias };
    features.forEach((row, i) => {
      const label = labels[i] ?? 0;
      const p = predictProbabilities(model, row);
      loss -= Math.log(Math.max(p[label] ?? 0, Number.MIN_VALUE));
      if (argmax(p) === label) correct++;
      for (let c = 0; c < classes; c++) {
        // d(cross-entropy)/d(logit_c) = p_c - [c is the label]
        const delta = (p[c] ?? 0) - (c === label ? 1 : 0);
        gradB[c] = (gradB[c] ?? 0) + delta;
        for (let f = 0; f < dims; f++) {
          const g = gradW[f];
          if (g !== undefined) g[c] = (g[c] ?? 0) + delta * (row[f] ?? 0);
        }
      }
    });
    for (let c = 0; c < classes; c++) {
      bias[c] = (bias[c] ?? 0) - (learningRate * (gradB[c] ?? 0)) / n;
      for (let f = 0; f < dims; f++) {
        const w = weights[f];
        if (w !== undefined) w[c] = (w[c] ?? 0) - (learningRate * (gradW[f]?.[c] ?? 0)) / n;
      }
    }
    await options.onEpoch?.({ epoch, loss: loss / n, accuracy: correct / n });
  }
  return { weights, bias };
}
