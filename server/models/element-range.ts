/**
 * Whether a number fits an element of a model's input type. JavaScript numbers are float64: a
 * value such as 1e39 is finite there but becomes Infinity in a float32 tensor, and 3e9 wraps
 * around in an int32 one; either way the model would compute on something the caller never sent
 * and answer NaN or nonsense with a 200. Such values are refused instead (issue 13, defect 4).
 */
import type { NumericType } from "./tensor-types.js";

/** Largest magnitude of an int64 element a JavaScript number states exactly (2^53 - 1). */
const maxExactInteger = Number.MAX_SAFE_INTEGER;

/**
 * Why the finite number `value` cannot be an element of type `dtype`, or undefined when it can:
 * float32 takes what rounds to a finite float32 (magnitude up to about 3.4028235e38), int32
 * integers in [-2^31, 2^31 - 1], int64 integers up to 2^53 - 1 in magnitude, float64 anything.
 */
export function elementRangeProblem(dtype: NumericType, value: number): string | undefined {
  switch (dtype) {
    case "float64":
      return undefined;
    case "float32":
      return Number.isFinite(Math.fround(value))
        ? undefined
        : `${value} is out of range for the model's float32 input (largest magnitude 3.4028234663852886e+38)`;
    case "int32":
      return Number.isInteger(value) && value >= -2147483648 && value <= 2147483647
        ? undefined
        : `${value} is not an int32 (an integer in [-2147483648, 2147483647]) as the model's input requires`;
    case "int64":
      return Number.isInteger(value) && Math.abs(value) <= maxExactInteger
        ? undefined
        : `${value} is not an integer of at most 2^53 - 1 in magnitude, as the model's int64 input requires from JSON numbers`;
  }
}
