/**
 * The numeric element types the inference server moves between callers, workers and
 * onnxruntime, with their typed-array views. Data always travels as little-endian, row-major
 * ArrayBuffers so it can be transferred between threads without copying.
 */

/** Element types the server accepts as model inputs and returns as outputs. */
export const numericTypes = ["float32", "float64", "int32", "int64"] as const;

/** One of {@link numericTypes}. */
export type NumericType = (typeof numericTypes)[number];

/** A typed array of one of the {@link NumericType}s. */
export type NumericArray = Float32Array | Float64Array | Int32Array | BigInt64Array;

/** A dense tensor in a transferable buffer: element type, dimensions and row-major elements. */
export interface RawTensor {
  readonly dtype: NumericType;
  readonly shape: readonly number[];
  /** Exactly product(shape) elements of `dtype`, little-endian. */
  readonly data: ArrayBuffer;
}

/** Bytes per element. */
export function elementSize(dtype: NumericType): number {
  return dtype === "float64" || dtype === "int64" ? 8 : 4;
}

/** True for a supported element type name. */
export function isNumericType(name: string): name is NumericType {
  return (numericTypes as readonly string[]).includes(name);
}

/** A typed-array view of `length` elements of `dtype` over a buffer (no copy). */
export function view(dtype: NumericType, buffer: ArrayBuffer, byteOffset = 0, length?: number): NumericArray {
  const n = length ?? (buffer.byteLength - byteOffset) / elementSize(dtype);
  switch (dtype) {
    case "float32":
      return new Float32Array(buffer, byteOffset, n);
    case "float64":
      return new Float64Array(buffer, byteOffset, n);
    case "int32":
      return new Int32Array(buffer, byteOffset, n);
    case "int64":
      return new BigInt64Array(buffer, byteOffset, n);
  }
}

/** A new zeroed typed array of `length` elements. */
export function allocate(dtype: NumericType, length: number): NumericArray {
  return view(dtype, new ArrayBuffer(length * elementSize(dtype)));
}

/** Element `i` as a JS number (int64 beyond 2^53 loses precision). */
export function numberAt(array: NumericArray, i: number): number {
  const v = array[i];
  return typeof v === "bigint" ? Number(v) : (v ?? Number.NaN);
}

/** Writes a JS number at `i`, truncating for integer types. */
export function setNumber(array: NumericArray, i: number, value: number): void {
  if (array instanceof BigInt64Array) array[i] = BigInt(Math.trunc(value));
  else array[i] = value;
}

/** Element count of a shape. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
