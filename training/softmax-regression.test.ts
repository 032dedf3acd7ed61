import { describe, expect, it } from "vitest";
import { loadIrisCsv, parseIrisCsv } from "./iris-data.js";
import {
  evaluate,
  fitStandardization,
  foldStandardization,
  predictProbabilities,
  standardize,
  trainSoftmaxRegression,
} from "./softmax-regression.js";

describe("softmax regression on iris", () => {
  it("reaches >= 95% accuracy, and the folded model gives the same probabilities on raw features", async () => {
    const data = await loadIrisCsv();
    expect(data.features).toHaveLength(150);
    const s = fitStandardization(data.features);
    const x = standardize(data.features, s);
    const losses: number[] = [];
    const model = await trainSoftmaxRegression(x, data.labels, {
      classes: 3,
      epochs: 300,
      learningRate: 0.5,
      seed: 42,
      onEpoch: (stats) => {
        losses.push(stats.loss);
      },
    });
    expect(losses).toHaveLength(300);
    expect(losses.at(-1)).toBeLessThan((losses[0] ?? 0) / 5);
    const folded = foldStandardization(model, s);
    expect(evaluate(folded, data.features, data.labels).accuracy).toBeGreaterThanOrEqual(0.95);
    data.features.forEach((row, i) => {
      const expected = predictProbabilities(model, x[i] ?? []);
      predictProbabilities(folded, row).forEach((p, c) => {
        expect(p).toBeCloseTo(expected[c] ?? Number.NaN, 10);
      });
    });
  });

  it("rejects a malformed CSV naming the line", () => {
    const header = "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,species";
    expect(() => parseIrisCsv(`${header}\n5.1,3.5,1.4,0.2,setosa\n5.1,x,1.4,0.2,setosa\n`)).toThrow(
      "invalid iris csv line 3",
    );
    expect(() => parseIrisCsv(`${header}\n5.1,3.5,1.4,0.2,rose\n`)).toThrow("unknown species");
    expect(() => parseIrisCsv("a,b\n")).toThrow("the header must be");
  });
});
