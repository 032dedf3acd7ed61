/**
 * The transport-agnostic prediction operations (MLServer's "data plane"): the gRPC/Connect
 * handlers and the JSON routes decode their requests, call these, and encode the results. It does
 * the bookkeeping every transport would otherwise repeat: input is validated against the model's
 * signature here, once, for every surface; every request (every PredictStream message) is counted
 * here, once, in prediction_requests_total{protocol, code, model}, under the protocol of its call
 * context; and PredictStream is orchestrated here (predict-stream.ts) for every transport.
 *
 * Every entry point takes the model explicitly (a request's `modelName`, "" for the default model,
 * and its `modelVersion`): each surface (JSON routes, gRPC, Connect, an Open Inference Protocol
 * `/v2/models/{name}/versions/{v}` adapter) only maps its own addressing onto these two fields.
 */
import { type Code, codeName, commonErrors, inferenceErrors, MlpipeError } from "../core/errors/index.js";
import type { TensorSpec } from "../core/onnx/onnx-signature.js";
import type { CallContext, Protocol } from "./call-context.js";
import type { InferenceMetrics, RequestTally } from "./inference-metrics.js";
import { elementRangeProblem } from "./models/element-range.js";
import type { LoadedModel, ModelManager, RowsInput, RowsOutput } from "./models/model-manager.js";
import type { ModelSet } from "./models/model-set.js";
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
import { type PredictStreamInput, type PredictStreamSink, runPredictStream } from "./predict-stream.js";
import type { ShadowTarget } from "./routing/model-traffic.js";
import { createShadowMirror } from "./routing/shadow-mirror.js";
import type { VersionStatsBook, VersionTally } from "./routing/version-stats.js";

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

/** What ListModels and GET /models return for one served model. */
export interface ServedModelInfo {
  readonly name: string;
  /** Whether requests that name no model reach it (MODEL_NAME). */
  readonly isDefault: boolean;
  /** Whether it answers predictions: a version is served and the server is not draining. */
  readonly ready: boolean;
  /** The stage or alias followed in the registry; "" for a local file. */
  readonly follows: string;
  /** Every loaded version, the served one first. */
  readonly versions: readonly ModelInfo[];
  /** Why it is not ready when its last load was refused (e.g. INFERENCE_MODEL_TOO_LARGE); "" otherwise. */
  readonly statusMessage: string;
  /** The traffic split in force: each route's alias, percent and the version loaded behind it ("" while none). */
  readonly routes: readonly { readonly alias: string; readonly percent: number; readonly version: string }[];
}

/** Rows of JSON-like numbers to predict (JSON /predict, gRPC Predict's `features`). */
export interface RowsRequest {
  readonly kind: "rows";
  /** The rows, each to be an array of the model's feature count of finite numbers. */
  readonly rows: readonly unknown[];
  /** Names row i in errors, e.g. "instances[3]". */
  readonly field: (row: number) => string;
  /** The model asked for; undefined or "" for the default model. */
  readonly modelName: unknown;
  /** The version asked for (a version number, stage or alias); undefined or "" for the served one. */
  readonly modelVersion: unknown;
  /** Makes the traffic split's choice sticky: the same key, the same version; undefined or "" for none. */
  readonly routingKey?: unknown;
}

/** A raw tensor [rows, features] (or [features]) to predict (PredictBatch, PredictStream's `inputs`). */
export interface TensorRequest {
  readonly kind: "tensor";
  readonly tensor: TensorInput;
  /** The model asked for; undefined or "" for the default model. */
  readonly modelName: unknown;
  /** The version asked for (a version number, stage or alias); undefined or "" for the served one. */
  readonly modelVersion: unknown;
  /** Makes the traffic split's choice sticky: the same key, the same version; undefined or "" for none. */
  readonly routingKey?: unknown;
  /** "tensors" skips the per-row predictions; default "predictions-and-tensors". */
  readonly form?: ResultForm | undefined;
  /** Errors name the tensor's fields under it (e.g. "inputs.shape"); default "inputs". */
  readonly field?: string | undefined;
}

/** A request in the data plane's terms, whatever transport decoded it. */
export type PredictionRequest = RowsRequest | TensorRequest;

/**
 * Reads the request of a call: what the transport received, decoded. It runs inside the call, so
 * that a request that cannot be read (a body that is not JSON, a message that is not protobuf, a
 * bad timeout header) is answered and counted like any other failure.
 */
export type RequestReader = () => PredictionRequest | Promise<PredictionRequest>;

/** How a transport turns PredictStream messages into requests and results into answers. */
export interface PredictStreamCodec<M, A> {
  /** The request of one message; a throw is that message's error (answered in the stream). */
  request(message: M): PredictionRequest;
  /** The answer to a message the model answered. */
  answer(message: M, result: PredictResult): A;
  /** The answer to a message that failed: its error, inside the stream. */
  errorAnswer(message: M, err: unknown): A;
}

/** The prediction operations. */
export interface PredictionService {
  /**
   * Answers one prediction request: reads it (`read`), validates it against the model's
   * signature, queues it for batching and waits for its rows. Its outcome is counted once in
   * prediction_requests_total under `context.protocol`.
   */
  predict(context: CallContext, read: RequestReader): Promise<PredictResult>;
  /**
   * Serves a PredictStream (see predict-stream.ts): each message is predicted and counted as
   * {@link predict} would, its answer goes to `sink` as soon as it is ready. A failure of the
   * stream itself is counted once more, as the stream's outcome. Returns the stream's input.
   */
  predictStream<M, A>(
    context: CallContext,
    codec: PredictStreamCodec<M, A>,
    sink: PredictStreamSink<A>,
  ): PredictStreamInput<M>;
  /** Describes a loaded version of a model ("" for the default one; NOT_FOUND / UNAVAILABLE as predictions). */
  modelInfo(modelName: unknown, modelVersion: unknown): ModelInfo;
  /** Every served model with its loaded versions, by name. */
  listModels(): ServedModelInfo[];
  /** True when the default model is served and the server is not draining. */
  readonly ready: boolean;
  /** Whether the model named `modelName` answers predictions (INFERENCE_MODEL_NOT_FOUND when not served). */
  modelReady(modelName: unknown): boolean;
  /** Requests accepted and not answered yet. */
  readonly inFlight: number;
  /** Refuses every new request with INFERENCE_SHUTTING_DOWN from now on. */
  beginDrain(): void;
  /** Resolves when no request is in flight. */
  whenIdle(): Promise<void>;
}

/** Options of {@link createPredictionService}. */
export interface PredictionServiceOptions {
  readonly models: ModelSet;
  readonly metrics: InferenceMetrics;
  /**
   * Counts what each version answered for the registry's rollout controller (reported by
   * registry-follow/traffic-stats-reporter.ts); default none.
   */
  readonly versionStats?: VersionStatsBook;
}

function versionSpec(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isInteger(value)) return String(value);
  throw inferenceErrors.invalidInput("model_version", "must be a string (a version number, stage or alias)");
}

/** Longest routing key, in characters. */
const maxRoutingKeyLength = 256;

function routingKeyOf(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string" || value.length > maxRoutingKeyLength) {
    throw inferenceErrors.invalidInput("routing_key", `must be a string of at most ${maxRoutingKeyLength} characters`);
  }
  return value;
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
      // float64 (the JSON number itself) always fits; the check costs one call per element otherwise.
      if (dtype !== "float64") {
        const problem = elementRangeProblem(dtype, v);
        if (problem !== undefined) throw inferenceErrors.invalidInput(`${field(i)}[${j}]`, problem);
      }
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
  // A conversion to the model's type (float64 -> float32, int64 -> int32, float -> int) must keep
  // every value: one that does not fit is the caller's error, never a silent Infinity or wrap.
  const data = allocate(dtype, rows * cols);
  for (let i = 0; i < rows * cols; i++) {
    const v = numberAt(source, i);
    const problem = elementRangeProblem(dtype, v);
    if (problem !== undefined) {
      throw inferenceErrors.invalidInput(`${field}.data[${Math.floor(i / cols)}][${i % cols}]`, problem);
    }
    setNumber(data, i, v);
  }
  return { data, rows, ownsBuffer: true };
}

/**
 * The `code` label of a failed request: the error's status code, recognised by shape (an
 * MlpipeError, error data, or a protocol library's error such as connect-es's ConnectError when a
 * stream's input fails: they carry the same gRPC code numbers); "internal" for anything else.
 */
function failureCode(err: unknown): string {
  if (err instanceof MlpipeError) return codeName(err.code);
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === "number" && Number.isInteger(code) && code >= 1 && code <= 16
    ? codeName(code as Code)
    : "internal";
}

/** Creates the service over a model manager. */
export function createPredictionService(options: PredictionServiceOptions): PredictionService {
  const { models, metrics, versionStats } = options;
  let draining = false;
  let inFlight = 0;
  let idle: (() => void)[] = [];
  // The latency series of each model version, resolved once per version rather than per request.
  const latencyOf = new WeakMap<LoadedModel, { observe(seconds: number): void }>();
  // The rollout tallies of each model version, resolved once per version too.
  const tallyOf = new WeakMap<LoadedModel, VersionTally>();
  const versionTally = (manager: ModelManager, model: LoadedModel): VersionTally | undefined => {
    if (versionStats === undefined) return undefined;
    let tally = tallyOf.get(model);
    if (tally === undefined) {
      tally = versionStats.tally(manager.name, model.artifact.version);
      tallyOf.set(model, tally);
    }
    return tally;
  };
  // The tallies of answered requests per model and protocol, resolved once per model (the hot
  // path counts into them).
  const okTallies = new Map<string, Record<Protocol, RequestTally>>();
  for (const m of models.list()) {
    okTallies.set(m.name, {
      http: metrics.requestTally("http", "ok", m.name),
      grpc: metrics.requestTally("grpc", "ok", m.name),
      grpc_web: metrics.requestTally("grpc_web", "ok", m.name),
      connect: metrics.requestTally("connect", "ok", m.name),
    });
  }
  metrics.sampleInFlight(() => inFlight);
  const mirror = createShadowMirror({ metrics });
  let mirrorClosed: Promise<void> | undefined;
  const noShadow: readonly ShadowTarget[] = [];

  /** Counts a failure under the model it was for ("" when the request named none served here). */
  function countFailure(protocol: Protocol, err: unknown, model: string): void {
    metrics.requestTally(protocol, failureCode(err), model).inc();
  }

  /**
   * The version that answers: without a pinned version, the one the model's traffic split picks
   * (else the followed one); a pinned version among the default manager's versions, else among
   * those of the split's routes (a challenger pinned by its alias or number).
   */
  function choose(manager: ModelManager, spec: string, routingKey: string): LoadedModel {
    const traffic = models.trafficOf(manager.name);
    if (spec === "" || spec.toLowerCase() === "latest") return (traffic?.pick(routingKey) ?? manager).resolve("");
    try {
      return manager.resolve(spec);
    } catch (err) {
      for (const route of traffic?.managers() ?? []) {
        if (route === manager) continue;
        try {
          return route.resolve(spec);
        } catch {
          // Not this route's version: the default manager's error stands.
        }
      }
      throw err;
    }
  }

  function describe(manager: ModelManager, m: LoadedModel): ModelInfo {
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
  }

  function rowsOf(request: PredictionRequest, model: LoadedModel): RowsInput {
    return request.kind === "rows"
      ? rowsFrom(request.rows, model, request.field)
      : rowsFromTensor(request.tensor, model, request.field ?? "inputs");
  }

  async function predict(context: CallContext, read: RequestReader): Promise<PredictResult> {
    const started = context.receivedAt ?? performance.now();
    let modelLabel = "";
    // Set once a version is chosen: what fails from then on is that version's failure.
    let tally: VersionTally | undefined;
    try {
      const pendingRequest = read();
      const request = pendingRequest instanceof Promise ? await pendingRequest : pendingRequest;
      if (draining) throw inferenceErrors.shuttingDown();
      // Resolve and queue in one synchronous step: a swap cannot retire the version in between.
      const manager = models.get(request.modelName);
      modelLabel = manager.name;
      const spec = versionSpec(request.modelVersion);
      const model = choose(manager, spec, routingKeyOf(request.routingKey));
      tally = versionTally(manager, model);
      const input = rowsOf(request, model);
      // Shadows mirror the requests the traffic routes (a pinned version is a deliberate choice).
      const shadows =
        spec === "" || spec.toLowerCase() === "latest"
          ? (models.trafficOf(manager.name)?.shadowPick() ?? noShadow)
          : noShadow;
      // A buffer the primary may transfer to its worker is copied first for the mirrors.
      const mirrored =
        shadows.length === 0
          ? undefined
          : input.ownsBuffer === true
            ? { data: input.data.slice(), rows: input.rows }
            : input;
      const pending = model.batcher.submit({
        rows: input.rows,
        input,
        deadline: context.deadline,
        signal: context.signal,
      });
      inFlight++;
      let outputs: RowsOutput;
      try {
        outputs = await pending;
      } finally {
        inFlight--;
        if (inFlight === 0) {
          const waiters = idle;
          idle = [];
          for (const w of waiters) w();
        }
      }
      // Computed, but too late: the caller has given up, so say so rather than answer stale.
      if (context.deadline !== undefined && performance.now() > context.deadline) throw commonErrors.deadlineExceeded();
      const predictions =
        request.kind === "tensor" && request.form === "tensors"
          ? []
          : readPredictions(model.signature.interpretation, outputs, input.rows);
      const latencyMs = performance.now() - started;
      let latency = latencyOf.get(model);
      if (latency === undefined) {
        latency = metrics.sampleObserver("latency", { model: model.artifact.name, version: model.artifact.version });
        latencyOf.set(model, latency);
      }
      latency.observe(latencyMs / 1000);
      tally?.ok(latencyMs);
      okTallies.get(manager.name)?.[context.protocol].inc();
      if (mirrored !== undefined)
        mirror.offer({ model: manager.name, primary: model, outputs, input: mirrored }, shadows);
      return { predictions, outputs, modelVersion: model.artifact.version, latencyMs };
    } catch (err) {
      countFailure(context.protocol, err, modelLabel);
      // A client that went away says nothing about the version.
      if (tally !== undefined && failureCode(err) !== "canceled") tally.failed();
      throw err;
    }
  }

  return {
    predict,
    predictStream(context, codec, sink) {
      return runPredictStream(context, {
        answer: (message, messageContext) =>
          predict(messageContext, () => codec.request(message)).then((r) => codec.answer(message, r)),
        errorAnswer: (message, err) => codec.errorAnswer(message, err),
        send: (answer) => sink.send(answer),
        pauseInput: () => sink.pauseInput?.(),
        end: (err) => {
          if (err !== undefined) countFailure(context.protocol, err, "");
          sink.end(err);
        },
      });
    },
    modelInfo(modelName, modelVersion) {
      if (draining) throw inferenceErrors.shuttingDown();
      const manager = models.get(modelName);
      const spec = versionSpec(modelVersion);
      // No pinned version: the followed one, without advancing the traffic split's round robin.
      return describe(manager, spec === "" ? manager.resolve("") : choose(manager, spec, ""));
    },
    listModels() {
      return models.list().map((manager) => {
        const traffic = models.trafficOf(manager.name);
        const loaded = manager.loaded().map((m) => describe(manager, m));
        for (const route of traffic?.managers() ?? []) {
          for (const m of route.loaded())
            if (!loaded.some((l) => l.version === m.artifact.version)) loaded.push(describe(manager, m));
        }
        return {
          name: manager.name,
          isDefault: manager === models.default,
          follows: manager.follows,
          ready: !draining && manager.served !== undefined,
          versions: loaded,
          statusMessage: manager.served === undefined ? (manager.lastFailure?.message ?? "") : "",
          routes: (traffic?.routes ?? []).map((r) => ({
            alias: r.alias,
            percent: r.percent,
            version: traffic?.managerOf(r.alias)?.served?.artifact.version ?? "",
          })),
        };
      });
    },
    get ready() {
      return !draining && models.default.served !== undefined;
    },
    modelReady(modelName) {
      return !draining && models.get(modelName).served !== undefined;
    },
    get inFlight() {
      return inFlight;
    },
    beginDrain() {
      draining = true;
      mirrorClosed ??= mirror.close();
    },
    whenIdle() {
      const requests = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve));
      // Once draining, queued mirrors are dropped and the running ones awaited.
      return mirrorClosed === undefined ? requests : Promise.all([requests, mirrorClosed]).then(() => undefined);
    },
  };
}
