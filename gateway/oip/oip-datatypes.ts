/**
 * The Open Inference Protocol's tensor data types ("FP32", "INT64", "BYTES", ...) and mlpipe's
 * element type names (onnxruntime's: "float32", "int64", "string", ...), both ways. Requests may
 * name any of the protocol's types; the data plane takes the numeric ones, so the others are
 * refused with a message that names the types that fit.
 */
import type { NumericType } from "../../server/models/tensor-types.js";

/** The protocol's data type of each numeric element type the data plane moves. */
export const oipDatatypeOf: Readonly<Record<NumericType, string>> = {
  float32: "FP32",
  float64: "FP64",
  int32: "INT32",
  int64: "INT64",
};

const numericOf = new Map<string, NumericType>(
  Object.entries(oipDatatypeOf).map(([type, datatype]) => [datatype, type as NumericType]),
);

/** The element type of a request's `datatype`, or undefined for one the data plane does not take (BOOL, BYTES, FP16, ...). */
export function numericTypeOfOip(datatype: string): NumericType | undefined {
  return numericOf.get(datatype);
}

/** The protocol's data types the data plane takes, for error messages ("FP32, FP64, INT32, INT64"). */
export const acceptedOipDatatypes = [...numericOf.keys()].join(", ");

/** onnxruntime's element type names, as the protocol spells them (ModelMetadata of any input or output). */
const fromOnnx: Readonly<Record<string, string>> = {
  ...oipDatatypeOf,
  bool: "BOOL",
  uint8: "UINT8",
  uint16: "UINT16",
  uint32: "UINT32",
  uint64: "UINT64",
  int8: "INT8",
  int16: "INT16",
  float16: "FP16",
  bfloat16: "BF16",
  string: "BYTES",
};

/** The protocol's name of an ONNX element type; the ONNX name upper-cased for one it has no name for. */
export function oipDatatypeOfOnnx(dtype: string): string {
  return fromOnnx[dtype] ?? dtype.toUpperCase();
}
