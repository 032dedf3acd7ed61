/**
 * The Open Inference Protocol's REST tensors and back: a request's `inputs` (typed `data`, nested or
 * flat, row-major; or bytes of the binary tensor extension) become input tensors of bytes, and the
 * outputs become JSON tensors (`data` flat, row-major) or binary sections. Decoding checks only
 * what JSON adds (the elements' JSON types and their count against `shape`); the rest (name, shape,
 * type against the model) is the data plane's, as for every surface.
 */
import { inferenceErrors } from "../../core/errors/index.js";
import { allocate, elementCount, type NumericType, type RawTensor, view } from "../../server/models/tensor-types.js";
import { oipDatatypeOf } from "./oip-datatypes.js";
import { type OipInputTensor, oipInputType } from "./oip-model.js";

/** The binary part of a request of the binary tensor extension, read in order by the inputs that have `binary_data_size`. */
export interface BinarySection {
  readonly bytes: Uint8Array;
  /** Bytes already taken by earlier inputs. */
  offset: number;
}

/** A JSON object, or INFERENCE_INVALID_INPUT naming `field`. */
export function objectAt(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw inferenceErrors.invalidInput(field, "must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/** A JSON string, or INFERENCE_INVALID_INPUT naming `field`. */
export function stringAt(value: unknown, field: string): string {
  if (typeof value !== "string") throw inferenceErrors.invalidInput(field, "must be a string");
  return value;
}

/** Pushes the numbers of `data` (nested arrays, row-major) onto `out`; INFERENCE_INVALID_INPUT for anything else. */
function flatten(data: unknown, out: number[], field: string): void {
  if (!Array.isArray(data)) {
    if (typeof data !== "number") throw inferenceErrors.invalidInput(field, "must hold numbers only");
    out.push(data);
    return;
  }
  for (const item of data) flatten(item, out, field);
}

/** The shape of a tensor: a list of non-negative integers (the data plane checks it against the model). */
function shapeAt(value: unknown, field: string): number[] {
  if (!Array.isArray(value) || value.some((d) => typeof d !== "number" || !Number.isSafeInteger(d) || d < 0)) {
    throw inferenceErrors.invalidInput(field, "must be a list of non-negative integers");
  }
  return value as number[];
}

/** The elements of a JSON `data` as little-endian bytes of `dtype`, checked against the shape's element count. */
function bytesOfJson(data: unknown, dtype: NumericType, shape: readonly number[], field: string): Uint8Array {
  const values: number[] = [];
  flatten(data, values, field);
  const expected = elementCount(shape);
  if (values.length !== expected) {
    throw inferenceErrors.invalidInput(
      field,
      `expected ${expected} elements for shape [${shape}], got ${values.length}`,
    );
  }
  const array = allocate(dtype, values.length);
  const integer = dtype === "int32" || dtype === "int64";
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (integer && !Number.isSafeInteger(v)) throw inferenceErrors.invalidInput(`${field}[${i}]`, "must be an integer");
    if (array instanceof BigInt64Array) array[i] = BigInt(v);
    else array[i] = v;
  }
  return new Uint8Array(array.buffer);
}

/** The `binary_data_size` parameter of an input, if it has one. */
function binarySize(parameters: unknown, field: string): number | undefined {
  if (parameters === undefined) return undefined;
  const size = objectAt(parameters, field).binary_data_size;
  if (size === undefined) return undefined;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw inferenceErrors.invalidInput(`${field}.binary_data_size`, "must be a non-negative integer");
  }
  return size;
}

/** Input `index` of a request body, decoded; its bytes come from `binary` when it has `binary_data_size`. */
export function jsonInputTensor(value: unknown, index: number, binary: BinarySection | undefined): OipInputTensor {
  const field = `inputs[${index}]`;
  const input = objectAt(value, field);
  const name = stringAt(input.name, `${field}.name`);
  const datatype = stringAt(input.datatype, `${field}.datatype`);
  const shape = shapeAt(input.shape, `${field}.shape`);
  const dtype = oipInputType(datatype, index);
  const size = binarySize(input.parameters, `${field}.parameters`);
  if (size === undefined) {
    if (input.data === undefined) throw inferenceErrors.invalidInput(`${field}.data`, "required");
    return { name, datatype, shape, data: bytesOfJson(input.data, dtype, shape, `${field}.data`) };
  }
  if (input.data !== undefined) {
    throw inferenceErrors.invalidInput(`${field}.data`, "must not be set with binary_data_size");
  }
  if (binary === undefined || binary.offset + size > binary.bytes.byteLength) {
    throw inferenceErrors.invalidInput(
      `${field}.parameters.binary_data_size`,
      "goes beyond the binary data after the JSON header (Inference-Header-Content-Length)",
    );
  }
  const data = binary.bytes.subarray(binary.offset, binary.offset + size);
  binary.offset += size;
  return { name, datatype, shape, data };
}

/** An output as a JSON tensor: its name, protocol data type, shape and flat row-major `data`. */
export function jsonOutputTensor(name: string, tensor: RawTensor): Record<string, unknown> {
  const values = view(tensor.dtype, tensor.data);
  const data = values instanceof BigInt64Array ? Array.from(values, Number) : Array.from(values);
  return { name, datatype: oipDatatypeOf[tensor.dtype], shape: tensor.shape, data };
}

/** An output whose data goes in the binary part of the answer: its JSON (with `binary_data_size`) and its bytes. */
export function binaryOutputTensor(
  name: string,
  tensor: RawTensor,
): { readonly json: Record<string, unknown>; readonly bytes: Uint8Array } {
  return {
    json: {
      name,
      datatype: oipDatatypeOf[tensor.dtype],
      shape: tensor.shape,
      parameters: { binary_data_size: tensor.data.byteLength },
    },
    bytes: new Uint8Array(tensor.data),
  };
}
