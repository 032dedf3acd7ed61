import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { commonErrors } from "../core/errors/common-errors.js";

/** The three species, in class-index order (0, 1, 2): the order of the model's outputs. */
export const irisClassNames = ["setosa", "versicolor", "virginica"] as const;

/** The four measurements, in centimetres, in feature-index order: the order of the model's input columns. */
export const irisFeatureNames = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"] as const;

/** The repository's copy of Fisher's Iris data set (150 rows, public domain). */
export const defaultIrisCsvPath = resolve(import.meta.dirname, "..", "data", "iris.csv");

/** A labelled data set: `features[i]` (raw measurements in cm) has class `labels[i]`. */
export interface IrisDataset {
  readonly features: readonly (readonly number[])[];
  /** Class indices into {@link irisClassNames}. */
  readonly labels: readonly number[];
}

/**
 * Parses the Iris CSV: a header naming {@link irisFeatureNames} then `species`, and one row per
 * flower. Rejects (INVALID_ARGUMENT naming the line) a wrong header, a non-numeric measurement or
 * an unknown species.
 */
export function parseIrisCsv(text: string): IrisDataset {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  const expectedHeader = [...irisFeatureNames, "species"].join(",");
  if (lines[0]?.trim() !== expectedHeader) {
    throw commonErrors.invalidArgument("iris csv line 1", `the header must be "${expectedHeader}"`);
  }
  const features: number[][] = [];
  const labels: number[] = [];
  lines.slice(1).forEach((line, index) => {
    const where = `iris csv line ${index + 2}`;
    const cells = line.split(",").map((cell) => cell.trim());
    if (cells.length !== irisFeatureNames.length + 1) {
      throw commonErrors.invalidArgument(where, `expected ${irisFeatureNames.length + 1} columns, got ${cells.length}`);
    }
    const row = cells.slice(0, irisFeatureNames.length).map(Number);
    if (row.some((value) => !Number.isFinite(value))) {
      throw commonErrors.invalidArgument(where, "every measurement must be a finite number");
    }
    const label = (irisClassNames as readonly string[]).indexOf(cells[irisFeatureNames.length] ?? "");
    if (label < 0) {
      throw commonErrors.invalidArgument(where, `unknown species; expected one of ${irisClassNames.join(", ")}`);
    }
    features.push(row);
    labels.push(label);
  });
  if (features.length === 0) throw commonErrors.invalidArgument("iris csv", "no data rows");
  return { features, labels };
}

/** Reads and parses an Iris CSV file (default: the repository's data/iris.csv). */
export async function loadIrisCsv(path: string = defaultIrisCsvPath): Promise<IrisDataset> {
  return parseIrisCsv(await readFile(path, "utf8"));
}
