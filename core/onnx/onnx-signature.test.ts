import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  ModelProtoSchema,
  TensorProto_DataType,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from "../../gen/onnx/onnx_pb.js";
import { OnnxFormatError, readOnnxSignature } from "./onnx-signature.js";

/** A tensor value info; a dimension is a size, a symbolic name, or null for neither. */
function tensor(name: string, elemType: number, dims: readonly (number | string | null)[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: "tensorType",
        value: {
          elemType,
          shape: {
            dim: dims.map((d) =>
              create(
                TensorShapeProto_DimensionSchema,
                d === null
                  ? {}
                  : typeof d === "number"
                    ? { value: { case: "dimValue", value: BigInt(d) } }
                    : { value: { case: "dimParam", value: d } },
              ),
            ),
          },
        },
      },
    }),
  });
}

/** A value of a type the committed onnx.proto subset does not model (a ZipMap's sequence of maps). */
const sequence = create(ValueInfoProtoSchema, { name: "scores_map", type: create(TypeProtoSchema, {}) });

describe("readOnnxSignature", () => {
  it("reads inputs without initializers and outputs, with onnxruntime's type names and symbolic dimensions", () => {
    const bytes = toBinary(
      ModelProtoSchema,
      create(ModelProtoSchema, {
        graph: {
          input: [
            tensor("features", TensorProto_DataType.FLOAT, ["batch", 4]),
            tensor("W", TensorProto_DataType.FLOAT, [4, 3]),
          ],
          initializer: [create(TensorProtoSchema, { name: "W" })],
          output: [
            tensor("label", TensorProto_DataType.INT64, ["batch"]),
            tensor("scores", TensorProto_DataType.DOUBLE, [null, 3]),
            tensor("flags", 21, []),
            sequence,
          ],
        },
      }),
    );
    const read = readOnnxSignature(bytes);
    expect(read.inputs).toEqual([
      { kind: "tensor", spec: { name: "features", dtype: "float32", shape: [-1, 4] }, dimParams: ["batch", ""] },
    ]);
    expect(read.outputs).toEqual([
      { kind: "tensor", spec: { name: "label", dtype: "int64", shape: [-1] }, dimParams: ["batch"] },
      { kind: "tensor", spec: { name: "scores", dtype: "float64", shape: [-1, 3] }, dimParams: ["", ""] },
      { kind: "tensor", spec: { name: "flags", dtype: "uint4", shape: [] }, dimParams: [] },
      { kind: "other", name: "scores_map" },
    ]);
  });

  it("refuses bytes that are not a model with a graph", () => {
    expect(() => readOnnxSignature(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(OnnxFormatError);
    expect(() => readOnnxSignature(new Uint8Array())).toThrow(/no graph/);
  });
});
