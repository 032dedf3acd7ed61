/**
 * The messages between the inference engine (main thread) and its piscina workers. Tensors travel
 * in transferred ArrayBuffers (moved, never copied); errors travel as ErrorData.
 */
import type { ErrorData } from "../../core/errors/index.js";
import type { NumericType, RawTensor } from "../models/tensor-types.js";

/** Which model a task runs, and how a worker loads it when it does not hold a session yet. */
export interface WorkerModelRef {
  /** Unique per loaded model (name, version and a load counter): the session cache key. */
  readonly key: string;
  /** Local path of the `.onnx` file (server log only, never in a caller's error). */
  readonly path: string;
  /** What the caller's errors name the model by: a registry URI or the file's name (ModelArtifact.source). */
  readonly source: string;
}

/** A batch to run: one input tensor [rows, features] and the outputs to fetch. */
export interface RunTask {
  readonly kind: "run";
  readonly model: WorkerModelRef;
  readonly inputName: string;
  readonly input: RawTensor;
  readonly outputNames: readonly string[];
}

/** Every task a worker accepts. */
export type WorkerTask = RunTask;

/** A named output tensor. */
export interface NamedTensor extends RawTensor {
  readonly name: string;
}

/** A successful run: the requested outputs, in the order asked. */
export interface RunResult {
  readonly ok: true;
  readonly outputs: readonly NamedTensor[];
}

/** A failed task: the error as data, and what went wrong in words for the server log (never sent to callers). */
export interface WorkerFailure extends ErrorData {
  readonly detail: string;
}

/** What a worker answers: a result, or an error as data. */
export type WorkerReply = RunResult | WorkerFailure;

/** Messages on the pool's broadcast channel (to every worker at once). */
export interface UnloadMessage {
  readonly kind: "unload";
  readonly key: string;
}

/** Static settings every worker receives as piscina `workerData`. */
export interface WorkerSettings {
  /** onnxruntime intra-op threads per session. */
  readonly intraOpThreads: number;
  /** Absolute path or file URL of the MODEL_HANDLER module; undefined for none. */
  readonly handlerModule: string | undefined;
  /** Name of the BroadcastChannel the pool uses to reach every worker. */
  readonly channel: string;
  /** Nice value each worker thread sets for itself at start (thread-priority.ts); undefined: inherited. */
  readonly niceness?: number | undefined;
}

/** Element type of a tensor given by onnxruntime's type name; undefined for types the server does not carry. */
export function numericTypeOf(ortType: string): NumericType | undefined {
  switch (ortType) {
    case "float32":
      return "float32";
    case "float64":
      return "float64";
    case "int32":
      return "int32";
    case "int64":
      return "int64";
    default:
      return undefined;
  }
}
