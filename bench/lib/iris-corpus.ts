import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./child-server.js";

/**
 * The request corpus of the inference scenarios: the 150 rows of the iris data set
 * (data/iris.csv, 4 float features each), sent in order and round again. Every baseline answers
 * the same rows.
 */
export function loadIrisRows(): readonly (readonly number[])[] {
  const text = readFileSync(join(repoRoot, "data", "iris.csv"), "utf8");
  const rows = text
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => line.split(",").slice(0, 4).map(Number));
  if (rows.length === 0 || rows.some((r) => r.length !== 4 || r.some(Number.isNaN))) {
    throw new Error("data/iris.csv: expected a header and rows of 4 numeric features");
  }
  return rows;
}

/** `count` rows of the corpus (cycled) as one little-endian float32 [count, 4] tensor. */
export function float32Batch(rows: readonly (readonly number[])[], count: number): Float32Array {
  const out = new Float32Array(count * 4);
  for (let r = 0; r < count; r++) out.set(rows[r % rows.length] ?? [], r * 4);
  return out;
}
