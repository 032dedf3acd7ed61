/**
 * Writes small ONNX models with mlpipe's ONNX schema subset (proto/onnx/onnx.proto): graph building
 * blocks, and ready-made linear models (a softmax classifier and a regressor) used by the tests and
 * by the training example. The files load in any ONNX runtime (IR version 8, default opset 13).
 */
import { create, toBinary } from "@bufbuild/protobuf";
import {
  type AttributeProto,
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  type ModelProto,
  ModelProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  type TensorProto,
  TensorProto_DataType,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from "../gen/onnx/onnx_pb.js";

/** The ONNX IR version written: 8 (ONNX 1.10+), which every onnxruntime since 1.10 reads. */
export const irVersion = 8n;

/** The default-domain opset written unless a model asks for another: 13. */
export const defaultOpset = 13;

/** Element types the builder writes initializers for. */
export type InitializerType = "float32" | "int64";

/** A node attribute value: a number is a float unless `int` is used. */
export type AttributeValue =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly ints: readonly number[] };

/** One dimension of a declared shape: a fixed size, or a symbolic name for a dynamic size. */
export type Dim = number | string;

/** Makes a constant tensor (an initializer) stored as little-endian `raw_data`. */
export function initializer(
  name: string,
  type: InitializerType,
  dims: readonly number[],
  values: readonly number[],
): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== values.length) throw new Error(`initializer ${name}: ${values.length} values for dims [${dims}]`);
  const raw =
    type === "float32"
      ? new Uint8Array(Float32Array.from(values).buffer)
      : new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(Math.trunc(v)))).buffer);
  return create(TensorProtoSchema, {
    name,
    dims: dims.map((d) => BigInt(d)),
    dataType: type === "float32" ? TensorProto_DataType.FLOAT : TensorProto_DataType.INT64,
    rawData: raw,
  });
}

/** Makes a node applying `opType` (default domain) to named inputs, producing named outputs. */
export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: Readonly<Record<string, AttributeValue>> = {},
): NodeProto {
  return create(NodeProtoSchema, {
    opType,
    name: `${opType}_${outputs[0] ?? ""}`,
    input: [...inputs],
    output: [...outputs],
    attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
  });
}

function attribute(name: string, value: AttributeValue): AttributeProto {
  if ("int" in value)
    return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(value.int) });
  if ("float" in value)
    return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOAT, f: value.float });
  return create(AttributeProtoSchema, {
    name,
    type: AttributeProto_AttributeType.INTS,
    ints: value.ints.map((v) => BigInt(v)),
  });
}

/** Declares a tensor-typed graph input or output with its element type (TensorProto.DataType) and shape. */
export function tensorValue(name: string, elemType: TensorProto_DataType, dims: readonly Dim[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: "tensorType",
        value: create(TypeProto_TensorSchema, {
          elemType,
          shape: create(TensorShapeProtoSchema, {
            dim: dims.map((d) =>
              create(TensorShapeProto_DimensionSchema, {
                value: typeof d === "number" ? { case: "dimValue", value: BigInt(d) } : { case: "dimParam", value: d },
              }),
            ),
          }),
        }),
      },
    }),
  });
}

/** The parts of a model: a graph and its metadata. */
export interface ModelParts {
  /** Graph name. */
  readonly name: string;
  readonly nodes: readonly NodeProto[];
  readonly inputs: readonly ValueInfoProto[];
  readonly outputs: readonly ValueInfoProto[];
  readonly initializers?: readonly TensorProto[];
  /** Default-domain opset; default {@link defaultOpset}. */
  readonly opset?: number;
  /** Free-form metadata written as `metadata_props`. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Assembles a ModelProto from its parts. */
export function buildModel(parts: ModelParts): ModelProto {
  return create(ModelProtoSchema, {
    irVersion,
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: BigInt(parts.opset ?? defaultOpset) })],
    producerName: "mlpipe",
    producerVersion: "0.1.0",
    domain: "dev.mlpipe",
    modelVersion: 1n,
    graph: {
      name: parts.name,
      node: [...parts.nodes],
      input: [...parts.inputs],
      output: [...parts.outputs],
      initializer: [...(parts.initializers ?? [])],
    },
    metadataProps: Object.entries(parts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
}

/** Serializes a model to the bytes of an `.onnx` file. */
export function serializeModel(model: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, model);
}

/** Options of {@link buildLinearClassifier}. */
export interface LinearClassifierOptions {
  /** Weights [features][classes]. */
  readonly weights: readonly (readonly number[])[];
  /** Bias per class. */
  readonly bias: readonly number[];
  /** Graph name; default "linear_classifier". */
  readonly name?: string;
}

/**
 * A softmax linear classifier: input `features` float32 [batch, F] (batch dynamic), outputs `label`
 * int64 [batch] (ArgMax) and `probabilities` float32 [batch, C] (Softmax of features x W + b).
 */
export function buildLinearClassifier(options: LinearClassifierOptions): Uint8Array {
  const features = options.weights.length;
  const classes = options.bias.length;
  if (features === 0 || classes < 2) throw new Error("a classifier needs at least one feature and two classes");
  for (const row of options.weights) {
    if (row.length !== classes) throw new Error(`each weight row needs ${classes} values`);
  }
  return serializeModel(
    buildModel({
      name: options.name ?? "linear_classifier",
      inputs: [tensorValue("features", TensorProto_DataType.FLOAT, ["batch", features])],
      outputs: [
        tensorValue("label", TensorProto_DataType.INT64, ["batch"]),
        tensorValue("probabilities", TensorProto_DataType.FLOAT, ["batch", classes]),
      ],
      initializers: [
        initializer("W", "float32", [features, classes], options.weights.flat()),
        initializer("B", "float32", [classes], options.bias),
      ],
      nodes: [
        node("MatMul", ["features", "W"], ["scores"]),
        node("Add", ["scores", "B"], ["logits"]),
        node("Softmax", ["logits"], ["probabilities"], { axis: { int: 1 } }),
        node("ArgMax", ["probabilities"], ["label"], { axis: { int: 1 }, keepdims: { int: 0 } }),
      ],
    }),
  );
}

/** Options of {@link buildLinearRegressor}. */
export interface LinearRegressorOptions {
  /** One weight per feature. */
  readonly weights: readonly number[];
  readonly bias: number;
  /** Graph name; default "linear_regressor". */
  readonly name?: string;
}

/** A linear regressor: input `features` float32 [batch, F], output `value` float32 [batch, 1] = features x w + b. */
export function buildLinearRegressor(options: LinearRegressorOptions): Uint8Array {
  const features = options.weights.length;
  if (features === 0) throw new Error("a regressor needs at least one feature");
  return serializeModel(
    buildModel({
      name: options.name ?? "linear_regressor",
      inputs: [tensorValue("features", TensorProto_DataType.FLOAT, ["batch", features])],
      outputs: [tensorValue("value", TensorProto_DataType.FLOAT, ["batch", 1])],
      initializers: [
        initializer("W", "float32", [features, 1], options.weights),
        initializer("B", "float32", [1], [options.bias]),
      ],
      nodes: [node("MatMul", ["features", "W"], ["scores"]), node("Add", ["scores", "B"], ["value"])],
    }),
  );
}
