import { describe, expect, it } from "vitest";
import { rejects } from "../../test/support/expect-invalid-argument.js";
import { validateStep, validateTimestamp } from "./numbers.js";

describe("numbers", () => {
  it("accepts timestamps from 0 to 2^53-1 milliseconds", () => {
    expect(validateTimestamp(0n, "t")).toBe(0);
    expect(validateTimestamp(1_700_000_000_000n, "t")).toBe(1_700_000_000_000);
    expect(validateTimestamp(BigInt(Number.MAX_SAFE_INTEGER), "t")).toBe(Number.MAX_SAFE_INTEGER);
    rejects(() => validateTimestamp(-1n, "metrics[0].timestamp"), "metrics[0].timestamp");
    rejects(() => validateTimestamp(BigInt(Number.MAX_SAFE_INTEGER) + 1n, "t"), "t");
  });

  it("accepts any step within ±(2^53-1), negative included", () => {
    expect(validateStep(-5n, "s")).toBe(-5n);
    expect(validateStep(BigInt(-Number.MAX_SAFE_INTEGER), "s")).toBe(BigInt(-Number.MAX_SAFE_INTEGER));
    rejects(() => validateStep(BigInt(Number.MAX_SAFE_INTEGER) + 1n, "s"), "s");
    rejects(() => validateStep(-(2n ** 63n), "s"), "s");
  });
});
