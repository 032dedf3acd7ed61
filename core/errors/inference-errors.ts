import { Code } from "./code.js";
import { defineError } from "./define-error.js";

/** Errors of the inference server (model loading, batching, prediction). */
export const inferenceErrors = {
  modelVersionNotFound: defineError(
    "INFERENCE_MODEL_VERSION_NOT_FOUND",
    Code.NotFound,
    "No loaded model version matches the requested version number, stage or alias.",
    (spec: string) => `model version "${spec}" is not loaded`,
    () => ({ field: "model_version" }),
  ),
  modelNotFound: defineError(
    "INFERENCE_MODEL_NOT_FOUND",
    Code.NotFound,
    "The server does not serve a model of this name (GET /models lists the ones it does).",
    (name: string) => `model "${name}" is not served here`,
    () => ({ field: "model" }),
  ),
  modelTooLarge: defineError(
    "INFERENCE_MODEL_TOO_LARGE",
    Code.ResourceExhausted,
    "The model version does not fit the server's model memory limit (MODEL_MEMORY_LIMIT_MB) beside the versions already loaded; it was not loaded.",
    (source: string, neededMb: number, freeMb: number, limitMb: number) =>
      `model ${source} needs about ${neededMb} MB and ${freeMb} MB of the ${limitMb} MB model memory limit are free; it was not loaded`,
  ),
  invalidInput: defineError(
    "INFERENCE_INVALID_INPUT",
    Code.InvalidArgument,
    "The input rows do not fit the model's signature (count, type or value); `field` names the part.",
    (field: string, reason: string) => `invalid ${field}: ${reason}`,
    (field: string) => ({ field }),
  ),
  queueFull: defineError(
    "INFERENCE_QUEUE_FULL",
    Code.ResourceExhausted,
    "The batching queue is full; nothing was computed. Retry after the Retry-After delay.",
    (capacityRows: number) => `the inference queue is full (${capacityRows} rows); retry later`,
  ),
  overloaded: defineError(
    "INFERENCE_OVERLOADED",
    Code.ResourceExhausted,
    "The server is at capacity (requests in flight or event-loop delay over its limit); the request was refused unread. Retry after the Retry-After delay.",
    (why: string) => `the inference server is overloaded (${why}); nothing was computed, retry later`,
  ),
  modelNotReady: defineError(
    "INFERENCE_MODEL_NOT_READY",
    Code.Unavailable,
    "No model is loaded and warmed yet. Retry later.",
    () => "no model is ready to serve; retry later",
  ),
  shuttingDown: defineError(
    "INFERENCE_SHUTTING_DOWN",
    Code.Unavailable,
    "The server is draining before shutdown and accepts no new requests. Retry on another replica.",
    () => "the server is shutting down; retry on another replica",
  ),
  modelLoadFailed: defineError(
    "INFERENCE_MODEL_LOAD_FAILED",
    Code.FailedPrecondition,
    "The model file cannot be read or loaded, or its signature is not supported.",
    (source: string, reason: string, _cause?: unknown) => `cannot load model from ${source}: ${reason}`,
    (_source: string, _reason: string, cause?: unknown) => ({ cause }),
  ),
  workerFailed: defineError(
    "INFERENCE_WORKER_FAILED",
    Code.Internal,
    "The worker thread computing the batch died; the batch failed and the worker was replaced.",
    (_cause?: unknown) => "the inference worker failed; retry",
    (cause?: unknown) => ({ cause }),
  ),
  runtimeFailed: defineError(
    "INFERENCE_RUNTIME_FAILED",
    Code.Internal,
    "onnxruntime failed to run the batch; details are in the server log.",
    (_cause?: unknown) => "the model failed to run; details are in the server log",
    (cause?: unknown) => ({ cause }),
  ),
  handlerFailed: defineError(
    "INFERENCE_HANDLER_FAILED",
    Code.Internal,
    "The custom pre- or post-processing handler (MODEL_HANDLER) threw or returned a bad value.",
    (stage: string, reason: string, _cause?: unknown) => `the model handler's ${stage} failed: ${reason}`,
    (_stage: string, _reason: string, cause?: unknown) => ({ cause }),
  ),
  modelChecksumMismatch: defineError(
    "INFERENCE_MODEL_CHECKSUM_MISMATCH",
    Code.DataLoss,
    "A model file downloaded from the registry does not match the registry's SHA-256; it was discarded and the served version kept.",
    (source: string, expected: string, actual: string) =>
      `the file downloaded for ${source} has SHA-256 ${actual}, the registry says ${expected}; it was discarded`,
  ),
  registryUnavailable: defineError(
    "INFERENCE_REGISTRY_UNAVAILABLE",
    Code.Unavailable,
    "The model registry (REGISTRY_URL) cannot be reached; the server keeps serving what it has and retries.",
    (url: string, _cause?: unknown) => `the model registry at ${url} cannot be reached; retrying`,
    (_url: string, cause?: unknown) => ({ cause }),
  ),
  healthServiceUnknown: defineError(
    "INFERENCE_HEALTH_SERVICE_UNKNOWN",
    Code.NotFound,
    "A health check names a service this server does not serve.",
    (service: string) => `unknown service "${service}"`,
    () => ({ field: "service" }),
  ),
};
