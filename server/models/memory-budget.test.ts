import { describe, expect, it } from "vitest";
import { inferenceErrors } from "../../core/errors/index.js";
import { createMemoryBudget, sessionBytesPerFileByte, sessionOverheadBytes } from "./memory-budget.js";

const mib = 1024 * 1024;

describe("memory budget", () => {
  it("estimates a version per worker from its file size", () => {
    const budget = createMemoryBudget({ limitBytes: undefined, workers: 3 });
    expect(budget.estimate(10 * mib)).toBe(3 * (sessionBytesPerFileByte * 10 * mib + sessionOverheadBytes));
    expect(budget.limitBytes).toBe(Number.POSITIVE_INFINITY);
  });

  it("refuses a version that does not fit beside the reserved ones, and takes it once one is released", () => {
    // One worker: a 1 MiB file is estimated at 6 + 16 = 22 MiB.
    const budget = createMemoryBudget({ limitBytes: 50 * mib, workers: 1 });
    const a = budget.reserve("a.onnx", mib);
    const b = budget.reserve("b.onnx", mib);
    expect(budget.usedBytes).toBe(44 * mib);
    let refused: unknown;
    try {
      budget.reserve("c.onnx", mib);
    } catch (err) {
      refused = err;
    }
    expect(inferenceErrors.modelTooLarge.is(refused)).toBe(true);
    expect((refused as Error).message).toBe(
      "model c.onnx needs about 22 MB and 6 MB of the 50 MB model memory limit are free; it was not loaded",
    );
    expect(budget.usedBytes).toBe(44 * mib);
    a.release();
    a.release();
    expect(budget.usedBytes).toBe(22 * mib);
    expect(budget.reserve("c.onnx", mib).bytes).toBe(22 * mib);
    b.release();
  });

  it("refuses a version larger than the whole limit even when nothing is loaded", () => {
    const budget = createMemoryBudget({ limitBytes: 10 * mib, workers: 1 });
    expect(() => budget.reserve("huge.onnx", 100 * mib)).toThrow(/needs about 616 MB and 10 MB of the 10 MB/);
    expect(budget.usedBytes).toBe(0);
  });
});
