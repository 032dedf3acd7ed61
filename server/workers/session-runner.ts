/**
 * Runs inference batches on the calling thread: one onnxruntime session per loaded model (created
 * on first use, released on unload), the batch passed through the optional MODEL_HANDLER hooks.
 * The piscina workers run one each (inference-worker.ts); with INFERENCE_WORKERS=0 the serving
 * process runs one on its event loop (inline-pool.ts).
 */
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isMainThread } from "node:worker_threads";
import { type ErrorData, inferenceErrors, isErrorData, MlpipeError, toErrorData } from "../../core/errors/index.js";
import { ort } from "../../core/onnx/onnxruntime.js";
import { elementCount, type NumericArray, view } from "../models/tensor-types.js";
import type { HandlerTensor, ModelHandler } from "./model-handler.js";
import {
  type NamedTensor,
  numericTypeOf,
  type RunResult,
  type RunTask,
  type WorkerFailure,
  type WorkerReply,
} from "./worker-protocol.js";

/** What a runner needs: the settings every piscina worker receives, less the pool's channel. */
export interface SessionRunnerSettings {
  /** onnxruntime intra-op threads per session. */
  readonly intraOpThreads: number;
  /** Absolute path or file URL of the MODEL_HANDLER module; undefined for none. */
  readonly handlerModule: string | undefined;
}

/** Sessions of one thread. */
export interface SessionRunner {
  /** Runs one batch; never throws: failures come back as ErrorData with a `detail` for the server log. */
  run(task: RunTask): Promise<WorkerReply>;
  /** Releases the session of a model (the next batch of that key loads it again). */
  unload(key: string): void;
  /** Releases every session. */
  close(): Promise<void>;
}

function asTensor(value: unknown, what: string): HandlerTensor {
  const t = value as Partial<HandlerTensor> | undefined;
  const ok =
    t !== undefined &&
    Array.isArray(t.shape) &&
    (t.data instanceof Float32Array ||
      t.data instanceof Float64Array ||
      t.data instanceof Int32Array ||
      t.data instanceof BigInt64Array) &&
    t.data.length === elementCount(t.shape);
  if (!ok) throw inferenceErrors.handlerFailed(what, "it must return { data: typed array, shape } of matching size");
  return t as HandlerTensor;
}

function ortTypeOf(data: NumericArray): "float32" | "float64" | "int32" | "int64" {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Int32Array) return "int32";
  return "int64";
}

/** A buffer holding exactly the view's bytes: the view's own buffer when it is whole, else a copy. */
function ownBuffer(data: NumericArray): ArrayBuffer {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer) {
    return data.buffer;
  }
  return data.slice().buffer as ArrayBuffer;
}

/** Calls a handler hook; what it throws becomes INFERENCE_HANDLER_FAILED unless it is already coded. */
async function hook(stage: string, call: () => unknown): Promise<unknown> {
  try {
    return await call();
  } catch (err) {
    if (isErrorData(err) || err instanceof MlpipeError) throw err;
    throw inferenceErrors.handlerFailed(stage, err instanceof Error ? err.message : String(err));
  }
}

/** Creates a runner; sessions and the handler module load on first use. */
export function createSessionRunner(settings: SessionRunnerSettings): SessionRunner {
  const sessions = new Map<string, Promise<ort.InferenceSession>>();
  let handler: Promise<ModelHandler> | undefined;

  function session(task: RunTask): Promise<ort.InferenceSession> {
    let s = sessions.get(task.model.key);
    if (s === undefined) {
      s = ort.InferenceSession.create(task.model.path, {
        intraOpNumThreads: settings.intraOpThreads,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
      });
      sessions.set(task.model.key, s);
      s.catch(() => sessions.delete(task.model.key));
    }
    return s;
  }

  /**
   * Imports the MODEL_HANDLER module once. A TypeScript handler is loaded with `require`: in worker
   * threads on Node 20, tsx's ESM hooks do not apply (module.register does not reach workers), while
   * its CommonJS hook does, and it compiles the module's ESM syntax for `require`. On the main
   * thread (inline-pool.ts) `import()` goes through the same hooks as the server's own modules.
   */
  function loadHandler(): Promise<ModelHandler> {
    if (handler === undefined) {
      const module = settings.handlerModule;
      if (module === undefined) handler = Promise.resolve({});
      else if (/\.[cm]?ts$/.test(module) && !isMainThread) {
        const path = module.startsWith("file:") ? fileURLToPath(module) : module;
        handler = Promise.resolve().then(() => createRequire(import.meta.url)(path) as ModelHandler);
      } else {
        handler = import(module.startsWith("file:") ? module : pathToFileURL(module).href) as Promise<ModelHandler>;
      }
    }
    return handler;
  }

  function loadSession(task: RunTask): Promise<ort.InferenceSession> {
    return session(task).catch((err: unknown) => {
      // The path stays in the cause (the server log's `detail`): the caller sees the model's source.
      throw inferenceErrors.modelLoadFailed(task.model.source, "onnxruntime cannot create a session", err);
    });
  }

  async function run(task: RunTask): Promise<RunResult> {
    const hooks = await loadHandler().catch((err: unknown) => {
      // Import errors name the module's absolute path: kept for the server log, not told the caller.
      throw inferenceErrors.handlerFailed("import", "the module cannot be loaded (details are in the server log)", err);
    });
    const s = await loadSession(task);
    const rows = task.input.shape[0] ?? 0;
    let input: HandlerTensor = { data: view(task.input.dtype, task.input.data), shape: task.input.shape };
    if (hooks.preprocess !== undefined) {
      input = asTensor(await hook("preprocess", () => hooks.preprocess?.(input)), "preprocess");
      if (input.shape[0] !== rows) throw inferenceErrors.handlerFailed("preprocess", "it changed the number of rows");
    }
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await s.run({ [task.inputName]: new ort.Tensor(ortTypeOf(input.data), input.data, [...input.shape]) }, [
        ...task.outputNames,
      ]);
    } catch (err) {
      throw inferenceErrors.runtimeFailed(err);
    }
    let outputs: Record<string, HandlerTensor> = {};
    for (const name of task.outputNames) {
      const t = results[name];
      if (t === undefined || numericTypeOf(t.type) === undefined) {
        throw inferenceErrors.runtimeFailed(new Error(`output ${name} missing or of type ${t?.type}`));
      }
      outputs[name] = { data: t.data as NumericArray, shape: [...t.dims] };
    }
    if (hooks.postprocess !== undefined) {
      const current = outputs;
      const post = (await hook("postprocess", () => hooks.postprocess?.(current))) as Record<string, unknown>;
      outputs = {};
      for (const name of task.outputNames) outputs[name] = asTensor(post[name], "postprocess");
    }
    const named: NamedTensor[] = task.outputNames.map((name) => {
      const t = asTensor(outputs[name], "postprocess");
      if (t.shape[0] !== rows) throw inferenceErrors.handlerFailed("postprocess", `output ${name} lost its rows`);
      return { name, dtype: ortTypeOf(t.data), shape: t.shape, data: ownBuffer(t.data) };
    });
    return { ok: true, outputs: named };
  }

  return {
    async run(task: RunTask): Promise<WorkerReply> {
      try {
        return await run(task);
      } catch (err) {
        const data: ErrorData = isErrorData(err) ? err : toErrorData(err);
        const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
        const detail = cause instanceof Error ? cause.message : String(cause);
        return { ...data, detail } satisfies WorkerFailure;
      }
    },
    unload(key: string): void {
      const s = sessions.get(key);
      sessions.delete(key);
      void s?.then((x) => x.release()).catch(() => undefined);
    },
    async close(): Promise<void> {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(all.map((s) => s.then((x) => x.release()).catch(() => undefined)));
    },
  };
}
