/**
 * The transport-agnostic prediction operations (MLServer's "data plane"): the gRPC/Connect
 * handlers and the JSON routes decode their requests, call these, and encode the results. Input
 * is validated against the model's signature here, once, for every surface.
 */
import { codeName, commonErrors, inferenceErrors, MlpipeError } from "../core/errors/index.js";
import type { CancelSignal } from "./batching/cancellation.js";
import type { InferenceMetrics } from "./inference-metrics.js";
import type { LoadedModel, ModelManager, RowsInput, RowsOutput } from "./models/model-manager.js";
import type { TensorSpec } from "./models/onnx-signature.js";
import { type Prediction, readPredictions } from "./models/prediction-reader.js";
import {
  allocate,
  elementSize,
  type NumericArray,
  type NumericType,
  numberAt,
  setNumber,
  view,
} from "./models/tensor-types.js";

/** The surface a request came through, for metrics. */
export type Protocol = "http" | "grpc" | "connect" | "grpc_web";

/** Per-call context from the transport. */
export interface CallContext {
  /** Absolute deadline on the `performance.now()` clock, in ms; undefined for none. */
  readonly deadline?: number | undefined;
  /** Aborts when the client goes away. */
  readonly signal?: CancelSignal | undefined;
  /** When the request arrived, on the `performance.now()` clock; default: when the call starts. */
  readonly receivedAt?: number | undefined;
}

/** A raw input tensor as a transport received it. */
export interface TensorInput {
  /** Element type; undefined when the request named none or one the server does not support. */
  readonly dtype: NumericType | undefined;
  readonly shape: readonly number[];
  /** Little-endian elements. */
  readonly data: Uint8Array;
  /** Input name, "" for the model's only input. */
  readonly name: string;
}

/**
 * What a tensor call answers: per-row predictions and the raw outputs, or the raw outputs only
 * (the fast form: no per-row objects are built).
 */
export type ResultForm = "predictions-and-tensors" | "tensors";

/** The answer to a prediction call. */
export interface PredictResult {
  /** One per row, in order; empty for the "tensors" form. */
  readonly predictions: readonly Prediction[];
  /** The raw outputs for these rows, by output name. */
  readonly outputs: RowsOutput;
  /** The version that answered. */
  readonly modelVersion: string;
  /** Arrival to answer, in ms. */
  readonly latencyMs: number;
}

/** What ModelInfo and GET /model/info return. */
export interface ModelInfo {
  readonly name: string;
  readonly version: string;
  readonly stage: string;
  readonly aliases: readonly string[];
  readonly source: string;
  /** ms since the Unix epoch. */
  readonly loadedAt: number;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly task: "classification" | "regression";
  readonly serving: boolean;
}

/** The prediction operations. */
export interface PredictionService {
  /** Predicts rows of JSON-like numbers; `field(i)` names row i in errors (e.g. "instances[3]"). */
  predictRows(
    rows: readonly unknown[],
    modelVersion: unknown,
    context: CallContext,
    field: (row: number) => string,
  ): Promise<PredictResult>;
  /**
   * Predicts the rows of a raw tensor [rows, features] (or [features]); `form` "tensors" skips the
   * per-row predictions (default "predictions-and-tensors"). Errors name the tensor's fields under
   * `field` (default "inputs", e.g. "inputs.shape").
   */
  predictTensor(
    tensor: TensorInput,
    modelVersion: unknown,
    context: CallContext,
    form?: ResultForm,
    field?: string,
  ): Promise<PredictResult>;
  /** Describes a loaded version (NOT_FOUND / UNAVAILABLE as predictions). */
  modelInfo(modelVersion: unknown): ModelInfo;
  /** True when a model is served and the server is not draining. */
  readonly ready: boolean;
  /** Requests accepted and not answered yet. */
  readonly inFlight: number;
  /** Refuses every new request with INFERENCE_SHUTTING_DOWN from now on. */
  beginDrain(): void;
  /** Resolves when no request is in flight. */
  whenIdle(): Promise<void>;
  /** Counts an answered request in prediction_requests_total (transports call it once per request or stream message). */
  countRequest(protocol: Protocol, error: unknown): void;
}

/** Options of {@link createPredictionService}. */
export interface PredictionServiceOptions {
  readonly manager: ModelManager;
  readonly metrics: InferenceMetrics;
}

function versionSpec(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isInteger(value)) return String(value);
  throw inferenceErrors.invalidInput("model_version", "must be a string (a version number, stage or alias)");
}

function rowsFrom(rows: readonly unknown[], model: LoadedModel, field: (row: number) => string): RowsInput {
  const { dtype, features } = model.signature.input;
  if (rows.length === 0) throw inferenceErrors.invalidInput(field(0).replace(/\[0\]$/, ""), "must not be empty");
  const data = allocate(dtype, rows.length * features);
  for (let i = 0; i < rows.length; i++) {
    const row: unknown = rows[i];
    if (!Array.isArray(row)) throw inferenceErrors.invalidInput(field(i), `must be an array of ${features} numbers`);
    if (row.length !== features) {
      throw inferenceErrors.invalidInput(field(i), `expected ${features} values, got ${row.length}`);
    }
    for (let j = 0; j < features; j++) {
      const v: unknown = row[j];
      if (typeof v !== "number") throw inferenceErrors.invalidInput(`${field(i)}[${j}]`, "must be a number");
      if (!Number.isFinite(v)) throw inferenceErrors.invalidInput(`${field(i)}[${j}]`, "must be finite");
      setNumber(data, i * features + j, v);
    }
  }
  return { data, rows: rows.length, ownsBuffer: true };
}

/**
 * The request's elements as a typed array of `dtype`: a view over the request's bytes when they
 * are aligned for it (no copy; `owned` false, as the buffer is the transport's), else one copy
 * into an aligned buffer of its own (`owned` true).
 */
function viewOf(dtype: NumericType, bytes: Uint8Array): { values: NumericArray; owned: boolean } {
  const size = elementSize(dtype);
  if (bytes.byteOffset % size === 0 && bytes.buffer instanceof ArrayBuffer) {
    return { values: view(dtype, bytes.buffer, bytes.byteOffset, bytes.byteLength / size), owned: false };
  }
  // A copy of exactly these bytes (Buffer's own `slice` would be a view of the whole buffer).
  return { values: view(dtype, Uint8Array.prototype.slice.call(bytes).buffer), owned: true };
}

/** Index of the first NaN or infinite element, or -1. */
function firstNonFinite(values: Float32Array | Float64Array): number {
  for (let i = 0; i < values.length; i++) {
    // x - x is 0 for finite x and NaN for NaN and ±Infinity: one subtraction per element.
    const v = values[i] as number;
    if (v - v !== 0) return i;
  }
  return -1;
}

function rowsFromTensor(tensor: TensorInput, model: LoadedModel, field: string): RowsInput {
  const { dtype, features, name } = model.signature.input;
  if (tensor.dtype === undefined) {
    throw inferenceErrors.invalidInput(`${field}.dtype`, "must be one of float32, float64, int32, int64");
  }
  if (tensor.name !== "" && tensor.name !== name) {
    throw inferenceErrors.invalidInput(`${field}.name`, `the model's input is "${name}"`);
  }
  const shape = tensor.shape;
  if ((shape.length !== 1 && shape.length !== 2) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw inferenceErrors.invalidInput(`${field}.shape`, `must be [rows, ${features}] or [${features}]`);
  }
  const rows = shape.length === 2 ? (shape[0] ?? 0) : 1;
  const cols = shape[shape.length - 1] ?? 0;
  if (rows === 0) throw inferenceErrors.invalidInput(`${field}.shape`, "has no rows");
  if (cols !== features)
    throw inferenceErrors.invalidInput(`${field}.shape`, `expected ${features} features, got ${cols}`);
  const size = elementSize(tensor.dtype);
  if (tensor.data.byteLength !== rows * cols * size) {
    throw inferenceErrors.invalidInput(
      `${field}.data`,
      `expected ${rows * cols * size} bytes for shape [${shape}] of ${tensor.dtype}, got ${tensor.data.byteLength}`,
    );
  }
  const { values: source, owned } = viewOf(tensor.dtype, tensor.data);
  if (source instanceof Float32Array || source instanceof Float64Array) {
    const bad = firstNonFinite(source);
    if (bad >= 0) {
      throw inferenceErrors.invalidInput(`${field}.data[${Math.floor(bad / cols)}][${bad % cols}]`, "must be finite");
    }
  }
  if (tensor.dtype === dtype) return { data: source, rows, ownsBuffer: owned };
  const data = allocate(dtype, rows * cols);
  for (let i = 0; i < rows * cols; i++) setNumber(data, i, numberAt(source, i));
  return { data, rows, ownsBuffer: true };
}

/** Creates the service over a model manager. */
export function createPredictionService(options: PredictionServiceOptions): PredictionService {
  const { manager, metrics } = options;
  let draining = false;
  let inFlight = 0;
  let idle: (() => void)[] = [];
  // The latency series of each model version, resolved once per version rather than per request.
  const latencyOf = new WeakMap<LoadedModel, { observe(seconds: number): void }>();
  metrics.sampleInFlight(() => inFlight);

  async function run(
    context: CallContext,
    modelVersion: unknown,
    toRows: (model: LoadedModel) => RowsInput,
    form: ResultForm,
  ): Promise<PredictResult> {
    const started = context.receivedAt ?? performance.now();
    if (draining) throw inferenceErrors.shuttingDown();
    // Resolve and queue in one synchronous step: a swap cannot retire the version in between.
    const model = manager.resolve(versionSpec(modelVersion));
    const input = toRows(model);
    const pending = model.batcher.submit({
      rows: input.rows,
      input,
      deadline: context.deadline,
      signal: context.signal,
    });
    inFlight++;
    try {
      const outputs = await pending;
      // Computed, but too late: the caller has given up, so say so rather than answer stale.
      if (context.deadline !== undefined && performance.now() > context.deadline) throw commonErrors.deadlineExceeded();
      const predictions =
        form === "tensors" ? [] : readPredictions(model.signature.interpretation, outputs, input.rows);
      const latencyMs = performance.now() - started;
      let latency = latencyOf.get(model);
      if (latency === undefined) {
        latency = metrics.sampleObserver("latency", { model: model.artifact.name, version: model.artifact.version });
        latencyOf.set(model, latency);
      }
      latency.observe(latencyMs / 1000);
      return { predictions, outputs, modelVersion: model.artifact.version, latencyMs };
    } finally {
      inFlight--;
      if (inFlight === 0) {
        const waiters = idle;
        idle = [];
        for (const w of waiters) w();
      }
    }
  }

  return {
    // run() is async: whatever it throws, however early, comes back as a rejection.
    predictRows(rows, modelVersion, context, field) {
      return run(context, modelVersion, (m) => rowsFrom(rows, m, field), "predictions-and-tensors");
    },
    predictTensor(tensor, modelVersion, context, form = "predictions-and-tensors", field = "inputs") {
      return run(context, modelVersion, (m) => rowsFromTensor(tensor, m, field), form);
    },
    modelInfo(modelVersion) {
      if (draining) throw inferenceErrors.shuttingDown();
      const m = manager.resolve(versionSpec(modelVersion));
      const a = m.artifact;
      return {
        name: a.name,
        version: a.version,
        stage: a.stage,
        aliases: a.aliases,
        source: a.source,
        loadedAt: m.loadedAt,
        inputs: m.signature.inputs,
        outputs: m.signature.outputs,
        task: m.signature.interpretation.task,
        serving: manager.served === m,
      };
    },
    get ready() {
      return !draining && manager.served !== undefined;
    },
    get inFlight() {
      return inFlight;
    },
    beginDrain() {
      draining = true;
    },
    whenIdle() {
      if (inFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
    countRequest(protocol, error) {
      const code = error === undefined ? "ok" : error instanceof MlpipeError ? codeName(error.code) : "internal";
      metrics.requestTally(protocol, code).inc();
    },
  };
}
