import { resolve } from "node:path";
import { type LogLevel, logLevels } from "./logger.js";
import { aliasRule, stageOrAliasProblem } from "./validation/aliases.js";
import { modelNameProblem, modelNameRule } from "./validation/names.js";

/**
 * The configuration of every mlpipe process, read from the environment once by a composition root
 * (`loadConfig(process.env)`) and passed down frozen. Nothing else reads `process.env`.
 *
 * Variable names follow the stack mlpipe replaces where they apply (LOG_LEVEL, S3_ENDPOINT_URL,
 * AWS_ACCESS_KEY_ID, ...). Every variable is listed in the README's configuration table.
 */
export interface Config {
  /** Minimum log level (LOG_LEVEL, default "info"). */
  readonly logLevel: LogLevel;
  /** Directory of the embedded defaults: PGlite database, local artifacts, model cache (MLPIPE_DATA_DIR, default "./mlpipe-data"). Absolute. */
  readonly dataDir: string;
  /** PostgreSQL URL (DATABASE_URL); undefined means embedded PGlite in `<dataDir>/db`. */
  readonly databaseUrl: string | undefined;
  /** Maximum connections of the PostgreSQL pool (DATABASE_POOL_SIZE, default 10, 1..1000). */
  readonly databasePoolSize: number;
  /** Root of artifact storage (ARTIFACT_ROOT): a local directory, or `s3://bucket[/prefix]`. Default `<dataDir>/artifacts`. */
  readonly artifactRoot: string;
  /** S3 client settings, used when artifactRoot is an s3:// URI. */
  readonly s3: S3Config;
  /** The tracking + model registry server. */
  readonly registry: RegistryServerConfig;
  /** The inference server. */
  readonly inference: InferenceConfig;
  /** The web console served by the registry process. */
  readonly console: ConsoleConfig;
}

/** Settings of the web console (served by the tracking + registry server at `/`). */
export interface ConsoleConfig {
  /**
   * Base URL of the inference server whose `/model/info` and `/metrics` the console's Serving page
   * shows (CONSOLE_INFERENCE_URL), e.g. http://inference:8000; the registry reads them server-side
   * for the browser. Undefined: `mlpipe start` uses its own inference server, `mlpipe registry` shows none.
   */
  readonly inferenceUrl: string | undefined;
}

/** S3-compatible object storage settings (AWS S3, MinIO, ...). */
export interface S3Config {
  /** Endpoint URL for non-AWS servers, e.g. http://minio:9000 (S3_ENDPOINT_URL); undefined means AWS. */
  readonly endpointUrl: string | undefined;
  /** Region (AWS_REGION or AWS_DEFAULT_REGION, default "us-east-1"). */
  readonly region: string;
  /** Access key (AWS_ACCESS_KEY_ID); undefined uses the AWS default credential chain. */
  readonly accessKeyId: string | undefined;
  /** Secret key (AWS_SECRET_ACCESS_KEY); required when accessKeyId is set. */
  readonly secretAccessKey: string | undefined;
  /** Path-style addressing (S3_FORCE_PATH_STYLE, default true when S3_ENDPOINT_URL is set, as MinIO needs). */
  readonly forcePathStyle: boolean;
  /** Part size of multipart uploads in bytes (S3_MULTIPART_PART_SIZE, default 8 MiB, min 5 MiB). */
  readonly multipartPartSize: number;
}

/** Listener settings of the tracking + registry server. */
export interface RegistryServerConfig {
  /** Interface to bind (HOST, default "0.0.0.0"). */
  readonly host: string;
  /** Port for gRPC, Connect and gRPC-Web (REGISTRY_PORT, default 5000 as the MLflow tracking server). */
  readonly port: number;
  /** Largest accepted request message in bytes (MAX_REQUEST_BYTES, default 16 MiB); artifacts stream in chunks under it. */
  readonly maxRequestBytes: number;
  /** Browser origins allowed to call the server (CORS_ALLOWED_ORIGINS, comma-separated, or "*"); empty (default): no CORS. */
  readonly corsAllowedOrigins: readonly string[];
}

/** Settings of the inference server (model, worker pool, dynamic batching, listeners, shutdown). */
export interface InferenceConfig {
  /** Interface to bind (HOST, default "0.0.0.0"). */
  readonly host: string;
  /** Port of the JSON routes, Connect and gRPC-Web (INFERENCE_PORT, default 8000 as the FastAPI service). */
  readonly port: number;
  /**
   * An extra port for gRPC clients (INFERENCE_GRPC_PORT, e.g. 8001 as Triton); undefined (the
   * default) serves gRPC on `port` with everything else, which measured no throughput cost.
   */
  readonly grpcPort: number | undefined;
  /** Local `.onnx` file to serve (MODEL_PATH), absolute; when set it wins over the registry. */
  readonly modelPath: string | undefined;
  /** Registered model name (MODEL_NAME, default "iris-classifier"); also the name a local file is served under. */
  readonly modelName: string;
  /**
   * What to serve from the registry (MODEL_STAGE, default "Production"): a stage name
   * (None, Staging, Production, Archived; any case; its highest-numbered version) or an alias
   * (letters, digits, `_` and `-`, e.g. "champion"; `latest` and `v<digits>` are reserved, as in
   * the registry, whose rule this is: core/validation/aliases.ts).
   */
  readonly modelStage: string;
  /** Model registry URL (REGISTRY_URL), e.g. http://registry:5000; without MODEL_PATH the model comes from there. */
  readonly registryUrl: string | undefined;
  /** Custom pre/post-processing module (MODEL_HANDLER), absolute; loaded in every worker. */
  readonly handlerPath: string | undefined;
  /** Worker threads (INFERENCE_WORKERS, 1..256); undefined sizes from the cores. */
  readonly workers: number | undefined;
  /** onnxruntime intra-op threads per session (INFERENCE_INTRA_OP_THREADS, 1..256, default 1). workers x this never exceeds the cores. */
  readonly intraOpThreads: number | undefined;
  /** Largest dynamic batch in rows (MAX_BATCH_SIZE, default 64, 1..65536). */
  readonly maxBatchSize: number;
  /**
   * Longest a request waits for its batch to fill, in microseconds (MAX_QUEUE_DELAY_US, default 0,
   * 0..10 s; millisecond timer resolution). 0 waits for no timer: the requests read in one
   * event-loop turn are batched together.
   */
  readonly maxQueueDelayUs: number;
  /**
   * Rows the batching queue holds before answering RESOURCE_EXHAUSTED / 429, and the most rows one
   * request may carry (MAX_QUEUE_SIZE, default 65536, 1..1048576). Rows are cheap once batched (at
   * a million rows/s the default drains in tens of milliseconds); the number of requests waiting
   * is bounded by MAX_IN_FLIGHT_REQUESTS.
   */
  readonly maxQueueRows: number;
  /** Largest accepted request body or message in bytes (MAX_REQUEST_BYTES, shared with the registry, default 16 MiB). */
  readonly maxRequestBytes: number;
  /**
   * Prediction requests (a stream counts as one) admitted at once before new ones are refused
   * unread with 429 / RESOURCE_EXHAUSTED (MAX_IN_FLIGHT_REQUESTS, 1..1048576); undefined (the
   * default) allows 2 full batches per worker: 2 x workers x MAX_BATCH_SIZE.
   */
  readonly maxInFlightRequests: number | undefined;
  /**
   * Mean event-loop delay in ms over 100 ms windows beyond which, two windows in a row, prediction
   * requests are refused unread with 429 / RESOURCE_EXHAUSTED until a window is back under it
   * (MAX_EVENT_LOOP_DELAY_MS, default 0 = off, 0..60000). Opt-in: on a machine whose cores are
   * shared with other work, event-loop delay rises without this server being overloaded.
   */
  readonly maxEventLoopDelayMs: number;
  /** How long in-flight requests may take to finish after SIGTERM, in ms (SHUTDOWN_GRACE_MS, default 25000, 0..600000). */
  readonly shutdownGraceMs: number;
  /** Browser origins allowed to call the server (CORS_ALLOWED_ORIGINS, comma-separated, or "*"); empty (default): no CORS. */
  readonly corsAllowedOrigins: readonly string[];
}

/** A configuration variable that is missing a valid value; the message names the variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Every variable mlpipe reads; any other MLPIPE_* variable is rejected as a likely typo. */
const knownVariables = [
  "LOG_LEVEL",
  "MLPIPE_DATA_DIR",
  "DATABASE_URL",
  "DATABASE_POOL_SIZE",
  "ARTIFACT_ROOT",
  "S3_ENDPOINT_URL",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "S3_FORCE_PATH_STYLE",
  "S3_MULTIPART_PART_SIZE",
  "HOST",
  "REGISTRY_PORT",
  "MAX_REQUEST_BYTES",
  "INFERENCE_PORT",
  "INFERENCE_GRPC_PORT",
  "MODEL_PATH",
  "MODEL_NAME",
  "MODEL_STAGE",
  "REGISTRY_URL",
  "MODEL_HANDLER",
  "INFERENCE_WORKERS",
  "INFERENCE_INTRA_OP_THREADS",
  "MAX_BATCH_SIZE",
  "MAX_QUEUE_DELAY_US",
  "MAX_QUEUE_SIZE",
  "MAX_IN_FLIGHT_REQUESTS",
  "MAX_EVENT_LOOP_DELAY_MS",
  "SHUTDOWN_GRACE_MS",
  "CONSOLE_INFERENCE_URL",
  "CORS_ALLOWED_ORIGINS",
] as const;

/** An environment as `process.env` gives it: variable names to values. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates the configuration from an environment (usually `process.env`), applying
 * defaults. Throws {@link ConfigError} naming the variable on the first malformed value.
 */
export function loadConfig(env: Env, cwd: string = process.cwd()): Config {
  const known = new Set<string>(knownVariables);
  for (const name of Object.keys(env)) {
    if (name.startsWith("MLPIPE_") && !known.has(name)) {
      throw new ConfigError(`unknown variable ${name}; known MLPIPE_* variables: MLPIPE_DATA_DIR`);
    }
  }
  const dataDir = resolve(cwd, str(env, "MLPIPE_DATA_DIR") ?? "mlpipe-data");
  const artifactRoot = str(env, "ARTIFACT_ROOT") ?? resolve(dataDir, "artifacts");
  const databaseUrl = str(env, "DATABASE_URL");
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError("DATABASE_URL must be a postgres:// or postgresql:// URL");
  }
  const endpointUrl = str(env, "S3_ENDPOINT_URL");
  if (endpointUrl !== undefined && !/^https?:\/\/[^/]+/.test(endpointUrl)) {
    throw new ConfigError(`S3_ENDPOINT_URL must be an http:// or https:// URL, got "${endpointUrl}"`);
  }
  const accessKeyId = str(env, "AWS_ACCESS_KEY_ID");
  const secretAccessKey = str(env, "AWS_SECRET_ACCESS_KEY");
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
  }
  if (artifactRoot.startsWith("s3://") && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(artifactRoot)) {
    throw new ConfigError(`ARTIFACT_ROOT "${artifactRoot}" is not a valid s3://bucket[/prefix] URI`);
  }
  const registryUrl = readRegistryUrl(env);
  const modelPath = str(env, "MODEL_PATH");
  // The registry's own rules for model names and aliases (core/validation), so a typo fails at
  // startup, not at every reconnect to the registry.
  const modelName = str(env, "MODEL_NAME") ?? "iris-classifier";
  const nameProblem = modelNameProblem(modelName);
  if (nameProblem !== undefined) {
    throw new ConfigError(`MODEL_NAME must be ${modelNameRule}, got "${modelName}" (${nameProblem})`);
  }
  const modelStage = str(env, "MODEL_STAGE") ?? "Production";
  const stageProblem = stageOrAliasProblem(modelStage);
  if (stageProblem !== undefined) {
    throw new ConfigError(
      `MODEL_STAGE must be a stage (None, Staging, Production, Archived) or an alias (${aliasRule}), got "${modelStage}" (${stageProblem})`,
    );
  }
  const handlerPath = str(env, "MODEL_HANDLER");
  const consoleInferenceUrl = str(env, "CONSOLE_INFERENCE_URL");
  if (consoleInferenceUrl !== undefined && !/^https?:\/\/[^/]+/.test(consoleInferenceUrl)) {
    throw new ConfigError(`CONSOLE_INFERENCE_URL must be an http:// or https:// URL, got "${consoleInferenceUrl}"`);
  }
  const corsAllowedOrigins = origins(env, "CORS_ALLOWED_ORIGINS");
  const config: Config = {
    logLevel: oneOf(env, "LOG_LEVEL", logLevels, "info"),
    dataDir,
    databaseUrl,
    databasePoolSize: int(env, "DATABASE_POOL_SIZE", 10, 1, 1000),
    artifactRoot: artifactRoot.startsWith("s3://") ? artifactRoot : resolve(cwd, artifactRoot),
    s3: {
      endpointUrl,
      region: str(env, "AWS_REGION") ?? str(env, "AWS_DEFAULT_REGION") ?? "us-east-1",
      accessKeyId,
      secretAccessKey,
      forcePathStyle: bool(env, "S3_FORCE_PATH_STYLE", endpointUrl !== undefined),
      multipartPartSize: int(env, "S3_MULTIPART_PART_SIZE", 8 * 1024 * 1024, 5 * 1024 * 1024, 5 * 1024 * 1024 * 1024),
    },
    registry: {
      host: str(env, "HOST") ?? "0.0.0.0",
      port: int(env, "REGISTRY_PORT", 5000, 0, 65535),
      maxRequestBytes: int(env, "MAX_REQUEST_BYTES", 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      corsAllowedOrigins,
    },
    inference: {
      host: str(env, "HOST") ?? "0.0.0.0",
      port: int(env, "INFERENCE_PORT", 8000, 0, 65535),
      grpcPort: optionalInt(env, "INFERENCE_GRPC_PORT", 0, 65535),
      modelPath: modelPath === undefined ? undefined : resolve(cwd, modelPath),
      modelName,
      modelStage,
      registryUrl,
      handlerPath: handlerPath === undefined ? undefined : resolve(cwd, handlerPath),
      workers: optionalInt(env, "INFERENCE_WORKERS", 1, 256),
      intraOpThreads: optionalInt(env, "INFERENCE_INTRA_OP_THREADS", 1, 256),
      maxBatchSize: int(env, "MAX_BATCH_SIZE", 64, 1, 65536),
      maxQueueDelayUs: int(env, "MAX_QUEUE_DELAY_US", 0, 0, 10_000_000),
      maxQueueRows: int(env, "MAX_QUEUE_SIZE", 65536, 1, 1024 * 1024),
      maxRequestBytes: int(env, "MAX_REQUEST_BYTES", 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      maxInFlightRequests: optionalInt(env, "MAX_IN_FLIGHT_REQUESTS", 1, 1024 * 1024),
      maxEventLoopDelayMs: int(env, "MAX_EVENT_LOOP_DELAY_MS", 0, 0, 60_000),
      shutdownGraceMs: int(env, "SHUTDOWN_GRACE_MS", 25_000, 0, 600_000),
      corsAllowedOrigins,
    },
    console: { inferenceUrl: consoleInferenceUrl?.replace(/\/+$/, "") },
  };
  return deepFreeze(config);
}

/**
 * The registry URL (REGISTRY_URL) alone, checked as loadConfig checks it: what client commands
 * read, so a malformed server setting (MAX_BATCH_SIZE, ...) does not break them. Throws
 * {@link ConfigError} naming the variable.
 */
export function readRegistryUrl(env: Env): string | undefined {
  const registryUrl = str(env, "REGISTRY_URL");
  if (registryUrl !== undefined && !/^https?:\/\/[^/]+/.test(registryUrl)) {
    throw new ConfigError(`REGISTRY_URL must be an http:// or https:// URL, got "${registryUrl}"`);
  }
  return registryUrl;
}

function str(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === "" ? undefined : v;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = str(env, name);
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v)) throw new ConfigError(`${name} must be an integer, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** A comma-separated list of browser origins (scheme://host[:port]) or "*"; empty when unset. */
function origins(env: Env, name: string): readonly string[] {
  const value = str(env, name);
  if (value === undefined) return [];
  const list = value
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
  for (const o of list) {
    if (o !== "*" && !/^https?:\/\/[^/\s]+$/.test(o)) {
      throw new ConfigError(`${name} must list origins such as https://app.example.com (no path), or "*"; got "${o}"`);
    }
  }
  return list;
}

function optionalInt(env: Env, name: string, min: number, max: number): number | undefined {
  return str(env, name) === undefined ? undefined : int(env, name, min, min, max);
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = str(env, name)?.toLowerCase();
  if (v === undefined) return fallback;
  if (v === "true" || v === "1" || v === "yes") return true;
  if (v === "false" || v === "0" || v === "no") return false;
  throw new ConfigError(`${name} must be true or false, got "${v}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const v = str(env, name)?.toLowerCase();
  if (v === undefined) return fallback;
  const found = allowed.find((a) => a === v);
  if (found === undefined) throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, got "${v}"`);
  return found;
}

function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) {
    if (typeof v === "object" && v !== null) deepFreeze(v);
  }
  return Object.freeze(value);
}
