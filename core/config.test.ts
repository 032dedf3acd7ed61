import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, readClientToken } from "./config.js";

describe("loadConfig", () => {
  it("applies the embedded defaults", () => {
    const c = loadConfig({}, "/srv");
    expect(c.logLevel).toBe("info");
    expect(c.dataDir).toBe("/srv/mlpipe-data");
    expect(c.databaseUrl).toBeUndefined();
    expect(c.artifactRoot).toBe("/srv/mlpipe-data/artifacts");
    expect(c.registry.port).toBe(5000);
    expect(c.s3.forcePathStyle).toBe(false);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.registry)).toBe(true);
  });

  it("reads the variables of the stack it replaces", () => {
    const c = loadConfig(
      {
        LOG_LEVEL: "DEBUG",
        DATABASE_URL: "postgres://u:p@db:5432/mlpipe",
        ARTIFACT_ROOT: "s3://models/prod",
        S3_ENDPOINT_URL: "http://minio:9000",
        AWS_ACCESS_KEY_ID: "key",
        AWS_SECRET_ACCESS_KEY: "secret",
        REGISTRY_PORT: "5001",
      },
      "/srv",
    );
    expect(c.logLevel).toBe("debug");
    expect(c.databaseUrl).toBe("postgres://u:p@db:5432/mlpipe");
    expect(c.artifactRoot).toBe("s3://models/prod");
    expect(c.s3).toMatchObject({ endpointUrl: "http://minio:9000", forcePathStyle: true, accessKeyId: "key" });
    expect(c.registry.port).toBe(5001);
  });

  it.each([
    [{ LOG_LEVEL: "verbose" }, /LOG_LEVEL must be one of/],
    [{ REGISTRY_PORT: "http" }, /REGISTRY_PORT must be an integer/],
    [{ REGISTRY_PORT: "70000" }, /REGISTRY_PORT must be between 0 and 65535/],
    [{ DATABASE_URL: "mysql://x" }, /DATABASE_URL must be a postgres/],
    [{ AWS_ACCESS_KEY_ID: "only-key" }, /must be set together/],
    [{ S3_FORCE_PATH_STYLE: "maybe" }, /S3_FORCE_PATH_STYLE must be true or false/],
    [{ ARTIFACT_ROOT: "s3://A_bad_bucket" }, /ARTIFACT_ROOT/],
    [{ MLPIPE_DATADIR: "/x" }, /unknown variable MLPIPE_DATADIR/],
    [{ CONSOLE_INFERENCE_URL: "inference:8000" }, /CONSOLE_INFERENCE_URL must be an http/],
    [{ REGISTRY_AUTH: "oidc" }, /REGISTRY_AUTH must be one of none, token/],
    [{ AUTH_DEFAULT_PERMISSION: "write" }, /AUTH_DEFAULT_PERMISSION must be one of none, read, edit, manage/],
    [{ AUTH_PRODUCTION_PERMISSION: "none" }, /AUTH_PRODUCTION_PERMISSION must be one of read, edit, manage/],
    [{ INFERENCE_AUTH: "oidc" }, /INFERENCE_AUTH must be one of none, token/],
    [{ INFERENCE_AUTH: "token", MODEL_PATH: "/m.onnx" }, /INFERENCE_AUTH=token needs REGISTRY_URL .* or OIDC_ISSUER/],
    [{ OIDC_ISSUER: "https://idp.example" }, /OIDC_ISSUER needs OIDC_AUDIENCE/],
    [{ OIDC_AUDIENCE: "mlpipe" }, /need OIDC_ISSUER/],
    [{ OIDC_ISSUER: "idp.example", OIDC_AUDIENCE: "mlpipe" }, /OIDC_ISSUER must be an http/],
    [
      { OIDC_ISSUER: "https://idp.example", OIDC_AUDIENCE: "a", OIDC_JWKS_URL: "keys" },
      /OIDC_JWKS_URL must be an http/,
    ],
    [{ TLS_CERT_FILE: "cert.pem" }, /TLS_CERT_FILE and TLS_KEY_FILE must be set together/],
    [{ TLS_KEY_FILE: "key.pem" }, /TLS_CERT_FILE and TLS_KEY_FILE must be set together/],
    [{ TLS_CLIENT_CA_FILE: "ca.pem" }, /TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE/],
  ])("rejects %j naming the variable", (env, message) => {
    expect(() => loadConfig(env, "/srv")).toThrow(ConfigError);
    expect(() => loadConfig(env, "/srv")).toThrow(message);
  });

  it("serves cleartext by default and reads the TLS files, resolved, when both are set", () => {
    expect(loadConfig({}, "/srv").tls).toBeUndefined();
    const c = loadConfig(
      {
        TLS_CERT_FILE: "tls/cert.pem",
        TLS_KEY_FILE: "/etc/key.pem",
        TLS_CLIENT_CA_FILE: "ca.pem",
        MLPIPE_CA_FILE: "r.pem",
      },
      "/srv",
    );
    expect(c.tls).toEqual({ certFile: "/srv/tls/cert.pem", keyFile: "/etc/key.pem", clientCaFile: "/srv/ca.pem" });
    expect(c.inference.registryCaFile).toBe("/srv/r.pem");
  });

  it("keeps authentication off by default and reads its settings", () => {
    expect(loadConfig({}, "/srv").auth).toEqual({
      mode: "none",
      bootstrapTokenFile: undefined,
      defaultPermission: "read",
      productionPermission: "manage",
      writeRatePerSecond: 100,
      writeBurst: 200,
      inferenceMode: "none",
      inferenceCacheTtlMs: 30_000,
      oidc: undefined,
    });
    const c = loadConfig(
      {
        REGISTRY_AUTH: "token",
        AUTH_BOOTSTRAP_TOKEN_FILE: "secrets/admin-token",
        AUTH_DEFAULT_PERMISSION: "NONE",
        AUTH_PRODUCTION_PERMISSION: "edit",
        MLPIPE_TOKEN: "mlp_x",
        REGISTRY_WRITE_RATE_LIMIT: "0",
        REGISTRY_WRITE_BURST: "5",
      },
      "/srv",
    );
    expect(c.auth).toEqual({
      mode: "token",
      bootstrapTokenFile: "/srv/secrets/admin-token",
      defaultPermission: "none",
      productionPermission: "edit",
      writeRatePerSecond: 0,
      writeBurst: 5,
      inferenceMode: "none",
      inferenceCacheTtlMs: 30_000,
      oidc: undefined,
    });
    expect(readClientToken({ MLPIPE_TOKEN: " mlp_abc " })).toBe("mlp_abc");
    expect(() => readClientToken({ MLPIPE_TOKEN: "two words" })).toThrow(/MLPIPE_TOKEN/);
  });

  it("reads INFERENCE_AUTH and OIDC", () => {
    const oidc = { OIDC_ISSUER: "https://idp.example", OIDC_AUDIENCE: "mlpipe" };
    expect(loadConfig({ INFERENCE_AUTH: "token", ...oidc }, "/srv").auth).toMatchObject({
      inferenceMode: "token",
      oidc: { issuer: "https://idp.example", audience: "mlpipe", jwksUrl: undefined, principalClaim: "sub" },
    });
    const c = loadConfig(
      {
        INFERENCE_AUTH: "token",
        REGISTRY_URL: "http://registry:5000",
        INFERENCE_AUTH_CACHE_TTL_MS: "1000",
        ...oidc,
        OIDC_JWKS_URL: "https://idp.example/keys",
        OIDC_PRINCIPAL_CLAIM: "email",
      },
      "/srv",
    );
    expect(c.auth).toMatchObject({
      inferenceMode: "token",
      inferenceCacheTtlMs: 1000,
      oidc: { jwksUrl: "https://idp.example/keys", principalClaim: "email" },
    });
  });

  it("configures the inference server with the defaults of the services it replaces", () => {
    const c = loadConfig({}, "/srv");
    expect(c.inference).toMatchObject({
      port: 8000,
      grpcPort: undefined,
      modelPath: undefined,
      modelName: "iris-classifier",
      modelStage: "Production",
      workers: undefined,
      intraOpThreads: undefined,
      maxBatchSize: 64,
      inlineMaxBatchUs: 500,
      maxQueueDelayUs: 0,
      maxInFlightRequests: undefined,
      maxEventLoopDelayMs: 0,
    });
    expect(Object.isFrozen(c.inference)).toBe(true);
    const d = loadConfig(
      {
        MODEL_PATH: "models/iris.onnx",
        MODEL_HANDLER: "/opt/handler.mjs",
        INFERENCE_WORKERS: "3",
        INFERENCE_INTRA_OP_THREADS: "2",
        INFERENCE_INLINE_MAX_BATCH_US: "0",
        MAX_QUEUE_DELAY_US: "2000",
        MAX_IN_FLIGHT_REQUESTS: "32",
        MAX_EVENT_LOOP_DELAY_MS: "50",
        REGISTRY_URL: "http://registry:5000",
      },
      "/srv",
    );
    expect(d.inference).toMatchObject({
      modelPath: "/srv/models/iris.onnx",
      handlerPath: "/opt/handler.mjs",
      workers: 3,
      intraOpThreads: 2,
      inlineMaxBatchUs: 0,
      maxQueueDelayUs: 2000,
      maxInFlightRequests: 32,
      maxEventLoopDelayMs: 50,
      registryUrl: "http://registry:5000",
    });
  });

  it.each([
    [{ INFERENCE_WORKERS: "-1" }, /INFERENCE_WORKERS must be between 0 and 256/],
    [{ INFERENCE_INLINE_MAX_BATCH_US: "1000001" }, /INFERENCE_INLINE_MAX_BATCH_US must be between 0 and 1000000/],
    [{ MAX_BATCH_SIZE: "many" }, /MAX_BATCH_SIZE must be an integer/],
    [{ MAX_QUEUE_DELAY_US: "-1" }, /MAX_QUEUE_DELAY_US must be between 0/],
    [{ MAX_IN_FLIGHT_REQUESTS: "0" }, /MAX_IN_FLIGHT_REQUESTS must be between 1 and 1048576/],
    [{ MAX_EVENT_LOOP_DELAY_MS: "10ms" }, /MAX_EVENT_LOOP_DELAY_MS must be an integer/],
    [{ INFERENCE_GRPC_PORT: "65536" }, /INFERENCE_GRPC_PORT must be between 0 and 65535/],
    [{ CORS_ALLOWED_ORIGINS: "https://app.example.com/path" }, /CORS_ALLOWED_ORIGINS must list origins/],
    [{ CORS_ALLOWED_ORIGINS: "app.example.com" }, /CORS_ALLOWED_ORIGINS must list origins/],
    [{ REGISTRY_URL: "registry:5000" }, /REGISTRY_URL must be an http/],
    [{ MLFLOW_TRACKING_URI: "file:///tmp/mlruns" }, /MLFLOW_TRACKING_URI must be an http/],
    [{ MODEL_STAGE: "Prod uction" }, /MODEL_STAGE must be a stage .* or an alias/],
    [{ MODEL_NAME: "team/iris" }, /MODEL_NAME must be 1 to 256 characters without "\/"/],
    [{ MODEL_NAMES: "wine,team/iris", REGISTRY_URL: "http://r:5000" }, /MODEL_NAMES entries must be/],
    [{ MODEL_NAMES: "wine" }, /MODEL_NAMES needs REGISTRY_URL/],
    [{ MODEL_PATHS: "wine.onnx" }, /MODEL_PATHS entries must be name=path/],
    [{ MODEL_PATHS: "iris-classifier=a.onnx" }, /MODEL_PATHS names model "iris-classifier" twice/],
    [{ MODEL_MEMORY_LIMIT_MB: "0" }, /MODEL_MEMORY_LIMIT_MB must be between 1 and 1048576/],
  ])("rejects inference setting %j naming the variable", (env, message) => {
    expect(() => loadConfig(env, "/srv")).toThrow(message);
  });

  it("takes MLFLOW_TRACKING_URI as the registry URL when REGISTRY_URL is not set", () => {
    expect(loadConfig({ MLFLOW_TRACKING_URI: "http://mlflow:5000" }, "/srv").inference.registryUrl).toBe(
      "http://mlflow:5000",
    );
    const both = { REGISTRY_URL: "http://registry:5000", MLFLOW_TRACKING_URI: "databricks" };
    expect(loadConfig(both, "/srv").inference.registryUrl).toBe("http://registry:5000");
  });

  it("reads the models served beside MODEL_NAME: distinct, the default left out, paths resolved", () => {
    const c = loadConfig(
      {
        MODEL_NAMES: " wine , iris-classifier,wine,digits ",
        MODEL_PATHS: "local-a=models/a.onnx, local-b=/abs/b.onnx",
        REGISTRY_URL: "http://r:5000",
        MODEL_MEMORY_LIMIT_MB: "512",
      },
      "/srv",
    ).inference;
    expect(c.extraModelNames).toEqual(["wine", "digits"]);
    expect(c.extraModelPaths).toEqual([
      { name: "local-a", path: "/srv/models/a.onnx" },
      { name: "local-b", path: "/abs/b.onnx" },
    ]);
    expect(c.modelMemoryLimitMb).toBe(512);
    const defaults = loadConfig({}, "/srv").inference;
    expect([defaults.extraModelNames, defaults.extraModelPaths, defaults.modelMemoryLimitMb]).toEqual([
      [],
      [],
      undefined,
    ]);
  });

  it("refuses MODEL_STAGE values the registry reserves, as the registry does", () => {
    for (const stage of ["v1", "V42", "latest"]) {
      expect(() => loadConfig({ MODEL_STAGE: stage }, "/srv")).toThrow(ConfigError);
      expect(() => loadConfig({ MODEL_STAGE: stage }, "/srv")).toThrow(
        new RegExp(`MODEL_STAGE must be a stage .* or an alias .*, got "${stage}" \\(.*reserved`),
      );
    }
    expect(() => loadConfig({ MODEL_NAME: "a".repeat(257) }, "/srv")).toThrow(/MODEL_NAME .*at most 256 characters/);
  });

  it("reads the console's inference URL without a trailing slash, unset by default", () => {
    expect(loadConfig({}, "/srv").console.inferenceUrl).toBeUndefined();
    expect(loadConfig({ CONSOLE_INFERENCE_URL: "http://inference:8000/" }, "/srv").console.inferenceUrl).toBe(
      "http://inference:8000",
    );
  });

  it("accepts a stage in any case or an alias as MODEL_STAGE", () => {
    expect(loadConfig({ MODEL_STAGE: "staging" }, "/srv").inference.modelStage).toBe("staging");
    expect(loadConfig({ MODEL_STAGE: "champion" }, "/srv").inference.modelStage).toBe("champion");
  });
});
