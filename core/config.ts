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
  /**
   * Longest one PostgreSQL statement may run before the server cancels it, in ms
   * (DATABASE_STATEMENT_TIMEOUT_MS, default 30000, 0 = no bound, 0..3600000). PGlite cannot
   * interrupt a running statement (it runs on this thread), so it applies to PostgreSQL only.
   */
  readonly databaseStatementTimeoutMs: number;
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
  /** Authentication and authorization of the tracking + registry server. */
  readonly auth: AuthConfig;
  /** TLS of both servers' ports (TLS_CERT_FILE and TLS_KEY_FILE, together); undefined: cleartext. */
  readonly tls: TlsConfig | undefined;
}

/** TLS on the registry and inference ports (README "Security"). Paths are absolute. */
export interface TlsConfig {
  /** Server certificate chain, PEM (TLS_CERT_FILE); reloaded when it changes. */
  readonly certFile: string;
  /** Its private key, PEM (TLS_KEY_FILE); reloaded with the certificate. */
  readonly keyFile: string;
  /**
   * CA bundle, PEM, for mutual TLS (TLS_CLIENT_CA_FILE): clients must present a certificate it
   * signed, or the handshake fails. Undefined (default): no client certificates asked.
   */
  readonly clientCaFile: string | undefined;
}

/** A permission level as MLflow's auth names them (auth/permission.ts), each including the ones before. */
export type PermissionName = "none" | "read" | "edit" | "manage";

/** Authentication and authorization of the tracking + registry server (README "Security"). */
export interface AuthConfig {
  /**
   * REGISTRY_AUTH: "none" (default; every call is allowed, the audit actor is the `mlpipe-actor`
   * header) or "token" (every RPC but the health check needs `Authorization: Bearer <API token>`
   * and is checked against the grants).
   */
  readonly mode: "none" | "token";
  /**
   * File holding the first administrator's API token (AUTH_BOOTSTRAP_TOKEN_FILE, e.g. a mounted
   * Secret), at least 32 characters; made valid for principal "admin" at every start. Absolute.
   */
  readonly bootstrapTokenFile: string | undefined;
  /** Permission on experiments and models a principal has no grant on (AUTH_DEFAULT_PERMISSION, default "read"). */
  readonly defaultPermission: PermissionName;
  /** Permission needed to move a model version to Production (AUTH_PRODUCTION_PERMISSION, default "manage"). */
  readonly productionPermission: PermissionName;
  /**
   * Write calls (methods needing EDIT or MANAGE) per second each principal may sustain
   * (REGISTRY_WRITE_RATE_LIMIT, default 100; 0 turns the limit off). Applies with REGISTRY_AUTH=token.
   */
  readonly writeRatePerSecond: number;
  /** Write calls a principal may make at once after being idle (REGISTRY_WRITE_BURST, default 200). */
  readonly writeBurst: number;
  /**
   * INFERENCE_AUTH: "none" (default) or "token" (every inference request but health, readiness,
   * metrics and docs needs `Authorization: Bearer <API token or OIDC JWT>`; API tokens are
   * verified by the registry at REGISTRY_URL, JWTs locally). Token without REGISTRY_URL needs OIDC.
   */
  readonly inferenceMode: "none" | "token";
  /** How long the inference server trusts a token the registry verified, in ms (INFERENCE_AUTH_CACHE_TTL_MS, default 30 000). */
  readonly inferenceCacheTtlMs: number;
  /** OIDC bearer JWTs, accepted by both servers when OIDC_ISSUER is set; undefined otherwise. */
  readonly oidc: OidcConfig | undefined;
}

/** The OIDC issuer whose JWTs are accepted as bearer tokens (README "Security"). */
export interface OidcConfig {
  /** OIDC_ISSUER, compared with the `iss` claim exactly. */
  readonly issuer: string;
  /** OIDC_AUDIENCE, which the `aud` claim must contain (required with OIDC_ISSUER). */
  readonly audience: string;
  /** OIDC_JWKS_URL; default: `jwks_uri` of the issuer's discovery document. */
  readonly jwksUrl: string | undefined;
  /** OIDC_PRINCIPAL_CLAIM, the claim naming the principal (default "sub"), e.g. "email". */
  readonly principalClaim: string;
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
  /**
   * Longest the body of a unary or server-streaming RPC (Connect, gRPC-Web, gRPC) may take to
   * arrive, in ms (REQUEST_READ_TIMEOUT_MS, shared with the inference server, default 30000,
   * 100..600000); REQUEST_TIMEOUT after. Artifact uploads stream and are bounded by the idle timeout.
   */
  readonly requestReadTimeoutMs: number;
  /** Browser origins allowed to call the server (CORS_ALLOWED_ORIGINS, comma-separated, or "*"); empty (default): no CORS. */
  readonly corsAllowedOrigins: readonly string[];
  /**
   * How often the progressive rollout controller looks at the rollouts, ms (ROLLOUT_TICK_MS,
   * default 1000, 0..60000; 0 turns the controller off): a step ends at most this late.
   */
  readonly rolloutTickMs: number;
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
  /**
   * More registered models to follow at MODEL_STAGE beside MODEL_NAME (MODEL_NAMES, comma-separated,
   * at most 64, each following the registry's model name rule; needs REGISTRY_URL). Default none.
   */
  readonly extraModelNames: readonly string[];
  /**
   * More local `.onnx` files to serve beside the default model (MODEL_PATHS, comma-separated
   * `name=path` pairs, at most 64; paths absolute once read). Default none.
   */
  readonly extraModelPaths: readonly { readonly name: string; readonly path: string }[];
  /**
   * The memory the loaded model versions of the process may take together, in MiB
   * (MODEL_MEMORY_LIMIT_MB, 1..1048576), estimated per version from its file size and the worker
   * count (server/models/memory-budget.ts); a version that does not fit is refused with
   * INFERENCE_MODEL_TOO_LARGE. Undefined (the default): half of the memory the process may use
   * (its cgroup limit, else the host's memory).
   */
  readonly modelMemoryLimitMb: number | undefined;
  /**
   * Model registry URL (REGISTRY_URL, else MLFLOW_TRACKING_URI), e.g. http://registry:5000; without
   * MODEL_PATH the model comes from there.
   */
  readonly registryUrl: string | undefined;
  /** CA bundle, PEM, trusted for an https REGISTRY_URL besides the system's (MLPIPE_CA_FILE), absolute. */
  readonly registryCaFile: string | undefined;
  /** API token for a registry with REGISTRY_AUTH=token (MLPIPE_TOKEN); needs READ on the served model. */
  readonly registryToken: string | undefined;
  /**
   * How often what each version answered is reported to the registry for progressive rollouts,
   * ms (TRAFFIC_REPORT_INTERVAL_MS, default 5000, 100..600000, or 0: never); needs REGISTRY_URL,
   * and EDIT on the model for a registry with REGISTRY_AUTH=token.
   */
  readonly trafficReportIntervalMs: number;
  /** Custom pre/post-processing module (MODEL_HANDLER), absolute; loaded in every worker. */
  readonly handlerPath: string | undefined;
  /**
   * Processes serving inference over HTTP and gRPC (INFERENCE_HTTP_WORKERS, 1..256): undefined
   * means one per core (os.availableParallelism()) for `mlpipe serve` and 1 for `mlpipe start`
   * (whose processes would each start a whole inference server before the quick start's first
   * prediction); 1 serves from this process alone.
   * Each process has the whole edge, its own model cache, registry watch and worker threads.
   */
  readonly httpWorkers: number | undefined;
  /**
   * Worker threads of the server (INFERENCE_WORKERS, 0..256), split across the HTTP worker
   * processes (at least one each); undefined sizes from the cores; 0: none, every batch runs on
   * the serving process's event loop.
   */
  readonly workers: number | undefined;
  /**
   * A model version whose batch of MAX_BATCH_SIZE rows runs in less than this many microseconds
   * on the event loop is served there rather than on the worker threads
   * (INFERENCE_INLINE_MAX_BATCH_US, 0..1,000,000, default 500; 0: always the worker threads).
   * Not applied with a MODEL_HANDLER (always the threads) nor with INFERENCE_WORKERS=0 (always the
   * event loop).
   */
  readonly inlineMaxBatchUs: number;
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
   * Largest JSON /predict body in bytes (MAX_JSON_BODY_BYTES, default 4 MiB, at most
   * MAX_REQUEST_BYTES): parsed JSON takes many times its size in memory, binary bodies do not.
   */
  readonly maxJsonBodyBytes: number;
  /**
   * Longest an HTTP/1.1 request's headers and body, and a JSON /predict body on either HTTP
   * version, may take to arrive, in ms (REQUEST_READ_TIMEOUT_MS, default 30000, 100..600000);
   * 408 REQUEST_TIMEOUT after.
   */
  readonly requestReadTimeoutMs: number;
  /**
   * Prediction requests (a stream counts as one) admitted at once before new ones are refused
   * unread with 429 / RESOURCE_EXHAUSTED (MAX_IN_FLIGHT_REQUESTS, 1..1048576); undefined (the
   * default) allows 2 full batches per worker: 2 x workers x MAX_BATCH_SIZE. With several HTTP
   * worker processes each admits this many: requests of one HTTP/2 connection all reach one process.
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
  "DATABASE_STATEMENT_TIMEOUT_MS",
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
  "MAX_JSON_BODY_BYTES",
  "REQUEST_READ_TIMEOUT_MS",
  "INFERENCE_PORT",
  "INFERENCE_GRPC_PORT",
  "MODEL_PATH",
  "MODEL_NAME",
  "MODEL_STAGE",
  "REGISTRY_URL",
  "MLFLOW_TRACKING_URI",
  "TRAFFIC_REPORT_INTERVAL_MS",
  "ROLLOUT_TICK_MS",
  "MODEL_HANDLER",
  "INFERENCE_HTTP_WORKERS",
  "INFERENCE_WORKERS",
  "INFERENCE_INTRA_OP_THREADS",
  "INFERENCE_INLINE_MAX_BATCH_US",
  "MAX_BATCH_SIZE",
  "MAX_QUEUE_DELAY_US",
  "MAX_QUEUE_SIZE",
  "MAX_IN_FLIGHT_REQUESTS",
  "MAX_EVENT_LOOP_DELAY_MS",
  "SHUTDOWN_GRACE_MS",
  "CONSOLE_INFERENCE_URL",
  "REGISTRY_AUTH",
  "AUTH_BOOTSTRAP_TOKEN_FILE",
  "AUTH_DEFAULT_PERMISSION",
  "AUTH_PRODUCTION_PERMISSION",
  "MLPIPE_TOKEN",
  "REGISTRY_WRITE_RATE_LIMIT",
  "REGISTRY_WRITE_BURST",
  "CORS_ALLOWED_ORIGINS",
  "INFERENCE_AUTH",
  "INFERENCE_AUTH_CACHE_TTL_MS",
  "OIDC_ISSUER",
  "OIDC_AUDIENCE",
  "OIDC_JWKS_URL",
  "OIDC_PRINCIPAL_CLAIM",
  "TLS_CERT_FILE",
  "TLS_KEY_FILE",
  "TLS_CLIENT_CA_FILE",
  "MLPIPE_CA_FILE",
] as const;

const permissionNames: readonly PermissionName[] = ["none", "read", "edit", "manage"];

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
      throw new ConfigError(
        `unknown variable ${name}; known MLPIPE_* variables: MLPIPE_DATA_DIR, MLPIPE_TOKEN, MLPIPE_CA_FILE`,
      );
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
  const extraModelNames = modelNamesOf(env, modelName);
  const extraModelPaths = modelPathsOf(env, cwd, [modelName, ...extraModelNames]);
  if (extraModelNames.length > 0 && registryUrl === undefined) {
    throw new ConfigError("MODEL_NAMES needs REGISTRY_URL: the models it names are followed in the model registry");
  }
  const handlerPath = str(env, "MODEL_HANDLER");
  const consoleInferenceUrl = str(env, "CONSOLE_INFERENCE_URL");
  if (consoleInferenceUrl !== undefined && !/^https?:\/\/[^/]+/.test(consoleInferenceUrl)) {
    throw new ConfigError(`CONSOLE_INFERENCE_URL must be an http:// or https:// URL, got "${consoleInferenceUrl}"`);
  }
  const maxRequestBytes = int(env, "MAX_REQUEST_BYTES", 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024);
  const bootstrapTokenFile = str(env, "AUTH_BOOTSTRAP_TOKEN_FILE");
  const corsAllowedOrigins = origins(env, "CORS_ALLOWED_ORIGINS");
  const oidc = readOidc(env);
  const inferenceAuth = oneOf(env, "INFERENCE_AUTH", ["none", "token"], "none");
  if (inferenceAuth === "token" && registryUrl === undefined && oidc === undefined) {
    throw new ConfigError(
      "INFERENCE_AUTH=token needs REGISTRY_URL (which verifies API tokens) or OIDC_ISSUER (JWTs): without either no token could be accepted",
    );
  }
  const tls = tlsOf(env, cwd);
  const caFile = str(env, "MLPIPE_CA_FILE");
  const config: Config = {
    logLevel: oneOf(env, "LOG_LEVEL", logLevels, "info"),
    dataDir,
    databaseUrl,
    databasePoolSize: int(env, "DATABASE_POOL_SIZE", 10, 1, 1000),
    databaseStatementTimeoutMs: int(env, "DATABASE_STATEMENT_TIMEOUT_MS", 30_000, 0, 3_600_000),
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
      requestReadTimeoutMs: int(env, "REQUEST_READ_TIMEOUT_MS", 30_000, 100, 600_000),
      corsAllowedOrigins,
      rolloutTickMs: int(env, "ROLLOUT_TICK_MS", 1000, 0, 60_000),
    },
    inference: {
      host: str(env, "HOST") ?? "0.0.0.0",
      port: int(env, "INFERENCE_PORT", 8000, 0, 65535),
      grpcPort: optionalInt(env, "INFERENCE_GRPC_PORT", 0, 65535),
      modelPath: modelPath === undefined ? undefined : resolve(cwd, modelPath),
      modelName,
      modelStage,
      extraModelNames,
      extraModelPaths,
      modelMemoryLimitMb: optionalInt(env, "MODEL_MEMORY_LIMIT_MB", 1, 1024 * 1024),
      registryUrl,
      registryCaFile: caFile === undefined ? undefined : resolve(cwd, caFile),
      registryToken: readClientToken(env),
      trafficReportIntervalMs: readTrafficReportInterval(env),
      handlerPath: handlerPath === undefined ? undefined : resolve(cwd, handlerPath),
      httpWorkers: optionalInt(env, "INFERENCE_HTTP_WORKERS", 1, 256),
      workers: optionalInt(env, "INFERENCE_WORKERS", 0, 256),
      intraOpThreads: optionalInt(env, "INFERENCE_INTRA_OP_THREADS", 1, 256),
      inlineMaxBatchUs: int(env, "INFERENCE_INLINE_MAX_BATCH_US", 500, 0, 1_000_000),
      maxBatchSize: int(env, "MAX_BATCH_SIZE", 64, 1, 65536),
      maxQueueDelayUs: int(env, "MAX_QUEUE_DELAY_US", 0, 0, 10_000_000),
      maxQueueRows: int(env, "MAX_QUEUE_SIZE", 65536, 1, 1024 * 1024),
      maxRequestBytes,
      maxJsonBodyBytes: Math.min(
        maxRequestBytes,
        int(env, "MAX_JSON_BODY_BYTES", 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      ),
      requestReadTimeoutMs: int(env, "REQUEST_READ_TIMEOUT_MS", 30_000, 100, 600_000),
      maxInFlightRequests: optionalInt(env, "MAX_IN_FLIGHT_REQUESTS", 1, 1024 * 1024),
      maxEventLoopDelayMs: int(env, "MAX_EVENT_LOOP_DELAY_MS", 0, 0, 60_000),
      shutdownGraceMs: int(env, "SHUTDOWN_GRACE_MS", 25_000, 0, 600_000),
      corsAllowedOrigins,
    },
    console: { inferenceUrl: consoleInferenceUrl?.replace(/\/+$/, "") },
    auth: {
      mode: oneOf(env, "REGISTRY_AUTH", ["none", "token"], "none"),
      bootstrapTokenFile: bootstrapTokenFile === undefined ? undefined : resolve(cwd, bootstrapTokenFile),
      defaultPermission: oneOf(env, "AUTH_DEFAULT_PERMISSION", permissionNames, "read"),
      productionPermission: oneOf(env, "AUTH_PRODUCTION_PERMISSION", ["read", "edit", "manage"], "manage"),
      writeRatePerSecond: int(env, "REGISTRY_WRITE_RATE_LIMIT", 100, 0, 1_000_000),
      writeBurst: int(env, "REGISTRY_WRITE_BURST", 200, 1, 1_000_000),
      inferenceMode: inferenceAuth,
      inferenceCacheTtlMs: int(env, "INFERENCE_AUTH_CACHE_TTL_MS", 30_000, 0, 3_600_000),
      oidc,
    },
    tls,
  };
  return deepFreeze(config);
}

/**
 * The API token client commands send (MLPIPE_TOKEN) as `Authorization: Bearer`; undefined when
 * unset. Only printable characters without spaces, as an HTTP header value needs.
 */
export function readClientToken(env: Env): string | undefined {
  const token = str(env, "MLPIPE_TOKEN");
  if (token !== undefined && !/^[!-~]+$/.test(token)) {
    throw new ConfigError("MLPIPE_TOKEN must be printable characters without spaces");
  }
  return token;
}

/**
 * The registry URL (REGISTRY_URL, else MLFLOW_TRACKING_URI, which MLflow users already set: the
 * registry serves MLflow's REST API on the same port) alone, checked as loadConfig checks it:
 * what client commands read, so a malformed server setting (MAX_BATCH_SIZE, ...) does not break
 * them. Throws {@link ConfigError} naming the variable it read.
 */
export function readRegistryUrl(env: Env): string | undefined {
  const name = str(env, "REGISTRY_URL") === undefined ? "MLFLOW_TRACKING_URI" : "REGISTRY_URL";
  const registryUrl = str(env, name);
  if (registryUrl !== undefined && !/^https?:\/\/[^/]+/.test(registryUrl)) {
    throw new ConfigError(`${name} must be an http:// or https:// URL, got "${registryUrl}"`);
  }
  return registryUrl;
}

/** Most models one server follows besides MODEL_NAME: each has its own queue, sessions and metrics series. */
const maxExtraModels = 64;

/** The OIDC settings, or undefined without OIDC_ISSUER; the issuer and audience go together. */
function readOidc(env: Env): OidcConfig | undefined {
  const issuer = str(env, "OIDC_ISSUER");
  const audience = str(env, "OIDC_AUDIENCE");
  const jwksUrl = str(env, "OIDC_JWKS_URL");
  if (issuer === undefined) {
    if (audience !== undefined || jwksUrl !== undefined)
      throw new ConfigError("OIDC_AUDIENCE and OIDC_JWKS_URL need OIDC_ISSUER");
    return undefined;
  }
  if (!/^https?:\/\/[^/]+/.test(issuer))
    throw new ConfigError(`OIDC_ISSUER must be an http:// or https:// URL, got "${issuer}"`);
  if (audience === undefined)
    throw new ConfigError("OIDC_ISSUER needs OIDC_AUDIENCE: a JWT issued for another audience must not be accepted");
  if (jwksUrl !== undefined && !/^https?:\/\/[^/]+/.test(jwksUrl)) {
    throw new ConfigError(`OIDC_JWKS_URL must be an http:// or https:// URL, got "${jwksUrl}"`);
  }
  return { issuer, audience, jwksUrl, principalClaim: str(env, "OIDC_PRINCIPAL_CLAIM") ?? "sub" };
}

/** TLS_CERT_FILE and TLS_KEY_FILE both or neither; TLS_CLIENT_CA_FILE only with them. */
function tlsOf(env: Env, cwd: string): TlsConfig | undefined {
  const certFile = str(env, "TLS_CERT_FILE");
  const keyFile = str(env, "TLS_KEY_FILE");
  const clientCaFile = str(env, "TLS_CLIENT_CA_FILE");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError("TLS_CERT_FILE and TLS_KEY_FILE must be set together");
  }
  if (certFile === undefined || keyFile === undefined) {
    if (clientCaFile !== undefined) throw new ConfigError("TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE");
    return undefined;
  }
  return {
    certFile: resolve(cwd, certFile),
    keyFile: resolve(cwd, keyFile),
    clientCaFile: clientCaFile === undefined ? undefined : resolve(cwd, clientCaFile),
  };
}

/** MODEL_NAMES: distinct registered model names, MODEL_NAME left out. */
function modelNamesOf(env: Env, defaultName: string): string[] {
  const names: string[] = [];
  for (const raw of (str(env, "MODEL_NAMES") ?? "").split(",")) {
    const name = raw.trim();
    if (name === "" || name === defaultName || names.includes(name)) continue;
    const problem = modelNameProblem(name);
    if (problem !== undefined) {
      throw new ConfigError(`MODEL_NAMES entries must be ${modelNameRule}, got "${name}" (${problem})`);
    }
    names.push(name);
  }
  if (names.length > maxExtraModels) {
    throw new ConfigError(`MODEL_NAMES may name at most ${maxExtraModels} models, got ${names.length}`);
  }
  return names;
}

/** MODEL_PATHS: `name=path` pairs whose names are distinct and not in `taken`. */
function modelPathsOf(env: Env, cwd: string, taken: readonly string[]): { name: string; path: string }[] {
  const out: { name: string; path: string }[] = [];
  for (const raw of (str(env, "MODEL_PATHS") ?? "").split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const eq = entry.indexOf("=");
    const name = eq < 0 ? "" : entry.slice(0, eq).trim();
    const path = eq < 0 ? "" : entry.slice(eq + 1).trim();
    if (name === "" || path === "") {
      throw new ConfigError(`MODEL_PATHS entries must be name=path (comma-separated), got "${entry}"`);
    }
    const problem = modelNameProblem(name);
    if (problem !== undefined) {
      throw new ConfigError(`MODEL_PATHS names must be ${modelNameRule}, got "${name}" (${problem})`);
    }
    if (taken.includes(name) || out.some((o) => o.name === name)) {
      throw new ConfigError(`MODEL_PATHS names model "${name}" twice (or as MODEL_NAME / MODEL_NAMES)`);
    }
    out.push({ name, path: resolve(cwd, path) });
  }
  if (out.length > maxExtraModels) {
    throw new ConfigError(`MODEL_PATHS may name at most ${maxExtraModels} models, got ${out.length}`);
  }
  return out;
}

function str(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === "" ? undefined : v;
}

/** TRAFFIC_REPORT_INTERVAL_MS: 0 (off) or 100 ms to 10 min; a shorter period would flood the registry. */
function readTrafficReportInterval(env: Env): number {
  const ms = int(env, "TRAFFIC_REPORT_INTERVAL_MS", 5000, 0, 600_000);
  if (ms > 0 && ms < 100) throw new ConfigError("TRAFFIC_REPORT_INTERVAL_MS must be 0 (off) or from 100 to 600000");
  return ms;
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
