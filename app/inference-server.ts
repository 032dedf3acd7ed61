/**
 * The composition root of the inference server: config -> worker pool -> model manager ->
 * prediction service -> edge (JSON routes, gRPC, Connect, gRPC-Web, gRPC Health) -> listeners ->
 * the models (local files, or models followed in the registry; MODEL_NAME is the default one). Parts register with a lifecycle as they
 * start (app/lifecycle.ts), so a failed start unwinds what started and shutdown closes in the
 * reverse order: stop accepting (readiness false, new requests refused), stop following the
 * registry, drain within the grace period, listeners, admission control, workers.
 *
 * Listeners: INFERENCE_PORT serves everything over HTTP/1.1 and h2c on one port (sniffing the
 * HTTP/2 preface costs nothing measurable once a connection is routed); INFERENCE_GRPC_PORT, when
 * set, serves gRPC only (as Triton's 8001 beside its HTTP 8000): the same gRPC calls, and
 * ROUTE_NOT_FOUND for JSON, Connect, gRPC-Web and docs, which stay on INFERENCE_PORT.
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { availableParallelism, hostname, totalmem } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Config } from "../core/config.js";
import { ConfigError } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import { createAdmissionControl } from "../gateway/admission/admission-control.js";
import { type Authenticator, createBearerAuthenticator } from "../gateway/auth/bearer-authenticator.js";
import { createOidcVerifier } from "../gateway/auth/oidc-verifier.js";
import { createRegistryTokenVerifier } from "../gateway/auth/registry-token-verifier.js";
import type { MetricsExposition } from "../gateway/health/health-routes.js";
import { createReadiness, type Readiness } from "../gateway/health/readiness.js";
import { withCors } from "../gateway/http/cors.js";
import { type DualProtocolServer, listenDualProtocol } from "../gateway/http/dual-protocol-server.js";
import { createInferenceEdge } from "../gateway/inference/inference-edge.js";
import { createInferenceMetrics, type InferenceMetrics } from "../server/inference-metrics.js";
import { createMemoryBudget } from "../server/models/memory-budget.js";
import { createLocalFileLoader, type ModelLoader } from "../server/models/model-loader.js";
import { createModelManager, type ModelManager } from "../server/models/model-manager.js";
import { createModelSet, type ModelSet } from "../server/models/model-set.js";
import { createPredictionService, type PredictionService } from "../server/prediction-service.js";
import { createRegistryClient } from "../server/registry-follow/registry-client.js";
import { startRegistryServing } from "../server/registry-follow/registry-serving.js";
import type { BackoffOptions } from "../server/registry-follow/retry-backoff.js";
import { startTrafficStatsReporter } from "../server/registry-follow/traffic-stats-reporter.js";
import { createModelTraffic } from "../server/routing/model-traffic.js";
import { createVersionStatsBook } from "../server/routing/version-stats.js";
import type { InlineExecution } from "../server/workers/inline-choice.js";
import { createInlinePool } from "../server/workers/inline-pool.js";
import { lowestPriority } from "../server/workers/thread-priority.js";
import { createDeferredWorkerPool } from "../server/workers/worker-pool.js";
import { composeLifecycle, type Lifecycle } from "./lifecycle.js";
import { isLoopback } from "./loopback.js";
import { sizeProcesses } from "./process-sizing.js";

/**
 * `.onnx` files larger than this are not tried on the event loop: creating their session there
 * would stall the edge, and a model this large is rarely cheap per batch.
 */
const inlineMaxFileBytes = 8 * 1024 * 1024;

/** When a version timed over the bound (but under 20x it) is timed again, ms after its load. */
const inlineRetimeDelaysMs = [2_000, 10_000, 30_000];

/** A running inference server. */
export interface InferenceServer {
  /** Base URL of the main port (JSON, Connect, gRPC-Web, gRPC), e.g. http://127.0.0.1:8000. */
  readonly url: string;
  /** Base URL for gRPC clients (the gRPC port, or the main one when they are the same). */
  readonly grpcUrl: string;
  /** The default model's manager (MODEL_NAME). */
  readonly manager: ModelManager;
  /** Every served model's manager. */
  readonly models: ModelSet;
  readonly service: PredictionService;
  readonly metrics: InferenceMetrics;
  readonly readiness: Readiness;
  /**
   * Graceful shutdown: readiness false, new requests refused (UNAVAILABLE / 503), queued and running
   * requests finish within the grace period, then listeners and workers close. Idempotent.
   */
  shutdown(): Promise<void>;
}

/** Extra wiring for tests and for the processes of a cluster (app/inference-cluster-worker.ts). */
export interface InferenceServerOverrides {
  /**
   * The processes serving together (a cluster's HTTP workers): this one runs its share of the
   * worker threads and of MAX_IN_FLIGHT_REQUESTS (app/process-sizing.ts). Default 1.
   */
  readonly processes?: number;
  /**
   * What the edge reports as readiness (/health/ready, gRPC Health); default the server's own.
   * A cluster worker reports ready only while every process of the cluster is.
   */
  readonly servedReadiness?: Readiness;
  /** What GET /metrics serves; default this process's registry. */
  readonly metricsExposition?: MetricsExposition;
  /** The model to load first; default a local file loader over MODEL_PATH, else the registry. */
  readonly loader?: ModelLoader;
  /** Backoff of registry reconnects and load retries (registry mode); default 200 ms doubling up to 10 s. */
  readonly registryBackoff?: BackoffOptions;
}

/**
 * The model memory limit in bytes: MODEL_MEMORY_LIMIT_MB, else half of what the process may use
 * (its cgroup limit when it has one, else the host's memory); the other half is left to requests,
 * batches and the runtime, which the budget's estimate does not see.
 */
function memoryLimitBytes(limitMb: number | undefined): number {
  if (limitMb !== undefined) return limitMb * 1024 * 1024;
  const constrained = process.constrainedMemory?.() ?? 0;
  return Math.floor((constrained > 0 ? Math.min(constrained, totalmem()) : totalmem()) / 2);
}

/**
 * Starts listening, then serves the models; readiness turns true when the default one is loaded and warmed.
 *
 * With MODEL_PATH (or an override loader) that file is loaded before this resolves, and a file
 * that cannot be loaded fails the start. Otherwise, with REGISTRY_URL, the version of MODEL_NAME
 * that MODEL_STAGE (a stage or an alias) names is downloaded, loaded and then followed as the
 * registry moves it: this resolves at once, not ready, and readiness turns true when the first
 * version is served, however long the registry takes to be reachable or to have such a version.
 */
export async function startInferenceServer(
  config: Config,
  logger: Logger,
  overrides: InferenceServerOverrides = {},
): Promise<InferenceServer> {
  const c = config.inference;
  const loader =
    overrides.loader ??
    (c.modelPath === undefined ? undefined : createLocalFileLoader({ path: c.modelPath, name: c.modelName }));
  const registryUrl = c.registryUrl;
  if (loader === undefined && registryUrl === undefined) {
    throw new ConfigError(
      "set MODEL_PATH (a local .onnx file) or REGISTRY_URL (serve MODEL_NAME at MODEL_STAGE from the model registry)",
    );
  }
  const sizing = sizeProcesses({
    cores: availableParallelism(),
    httpWorkers: overrides.processes ?? 1,
    workers: c.workers,
    intraOpThreads: c.intraOpThreads,
    maxBatchSize: c.maxBatchSize,
    maxInFlightRequests: c.maxInFlightRequests,
  });
  const { intraOpThreads } = sizing.threads;
  if (sizing.threads.clamped) {
    logger.warn(
      { ...sizing.threads, cores: availableParallelism() },
      "thread counts lowered so workers x intra-op threads fit the cores",
    );
  }

  return composeLifecycle(logger, async (life) => {
    life.onClose("inference server", () => logger.info("inference server stopped"));
    // What the drain found, for the steps that close after it (listeners, workers).
    let drainStarted = performance.now();
    let drainTimedOut = false;

    const metrics = createInferenceMetrics();
    const handlerUrl = c.handlerPath === undefined ? undefined : pathToFileURL(c.handlerPath).href;
    const pool = await life.start(
      "worker pool",
      () =>
        sizing.inline
          ? createInlinePool({ intraOpThreads, handlerModule: handlerUrl, logger })
          : createDeferredWorkerPool({
              workers: sizing.workersPerProcess,
              intraOpThreads,
              handlerModule: handlerUrl,
              logger,
              onWorkerFailure: () => metrics.workerFailures.inc(),
            }),
      // Workers still busy when the grace period ran out are terminated.
      (p) => p.close(drainTimedOut),
    );
    // Versions cheap enough run on this event loop instead (workers/inline-choice.ts). Not with a
    // MODEL_HANDLER: its code may block or exit, which a worker thread keeps from the edge.
    const inline: InlineExecution | undefined =
      sizing.inline || c.handlerPath !== undefined || c.inlineMaxBatchUs === 0
        ? undefined
        : {
            pool: await life.start(
              "event-loop inference",
              () => createInlinePool({ intraOpThreads: 1, logger }),
              (p) => p.close(),
            ),
            maxBatchUs: c.inlineMaxBatchUs,
            maxFileBytes: inlineMaxFileBytes,
            retimeDelaysMs: inlineRetimeDelaysMs,
          };
    // Mirrored requests (shadow traffic) run on a thread of their own at the lowest CPU priority,
    // started by the first mirror: they only use cores that serving leaves idle, so the callers'
    // latency does not grow. With INFERENCE_WORKERS=0 (no threads) they run where serving does.
    const shadowPool = sizing.inline
      ? undefined
      : await life.start(
          "shadow thread",
          () =>
            createDeferredWorkerPool({
              workers: 1,
              intraOpThreads: 1,
              handlerModule: handlerUrl,
              logger,
              niceness: lowestPriority,
              onWorkerFailure: () => metrics.workerFailures.inc(),
            }),
          (p) => p.close(drainTimedOut),
        );
    // Every process loads its own copy of each model: the server's budget is split across them.
    const budget = createMemoryBudget({
      limitBytes: Math.floor(memoryLimitBytes(c.modelMemoryLimitMb) / sizing.processes),
      workers: sizing.workersPerProcess,
    });
    const managerOf = (name: string, follows: string): ModelManager =>
      createModelManager({
        name,
        follows,
        pool,
        inline,
        shadowPool,
        metrics,
        logger,
        budget,
        batching: { maxBatchSize: c.maxBatchSize, maxQueueDelayUs: c.maxQueueDelayUs, maxQueueRows: c.maxQueueRows },
      });
    const manager = managerOf(c.modelName, loader === undefined ? c.modelStage : "");
    const localModels = c.extraModelPaths.map((m) => ({ ...m, manager: managerOf(m.name, "") }));
    const registryModels = c.extraModelNames.map((name) => managerOf(name, c.modelStage));
    const models = createModelSet(c.modelName, [manager, ...localModels.map((m) => m.manager), ...registryModels]);
    metrics.sampleQueueDepth(() => models.queueDepths());
    // The models followed in the registry: what each of their versions answered is reported to
    // it for progressive rollouts.
    const followedNames = [...(loader === undefined ? [c.modelName] : []), ...c.extraModelNames];
    const versionStats =
      registryUrl !== undefined && c.trafficReportIntervalMs > 0 && followedNames.length > 0
        ? createVersionStatsBook()
        : undefined;
    const service = createPredictionService({
      models,
      metrics,
      ...(versionStats === undefined ? {} : { versionStats }),
    });
    const readiness = createReadiness();
    const admission = await life.start(
      "admission control",
      () =>
        createAdmissionControl({
          maxInFlight: sizing.maxInFlightPerProcess,
          maxEventLoopDelayMs: c.maxEventLoopDelayMs,
          onPressureChange: (underPressure, delayMs) =>
            logger.debug(
              { delayMs, limitMs: c.maxEventLoopDelayMs },
              underPressure ? "shedding load" : "load shedding over",
            ),
        }),
      (a) => a.close(),
    );
    const authenticate = await inferenceAuthenticator(config, life, logger);
    const edge = createInferenceEdge({
      service,
      readiness: overrides.servedReadiness ?? readiness,
      metrics,
      metricsExposition: overrides.metricsExposition,
      admission,
      maxRequestBytes: c.maxRequestBytes,
      maxJsonBodyBytes: c.maxJsonBodyBytes,
      requestReadTimeoutMs: c.requestReadTimeoutMs,
      authenticate,
      logger,
    });

    // No uploads here: an HTTP/1.1 request must arrive whole within the read timeout.
    const readBounds = { headersTimeoutMs: c.requestReadTimeoutMs, requestTimeoutMs: c.requestReadTimeoutMs };
    // Both ports close together, with what is left of the grace period (at most 1 s): requests
    // still running after the drain are cut.
    const listeners: DualProtocolServer[] = [];
    life.onClose("listeners", () => {
      const left = Math.max(0, c.shutdownGraceMs - (performance.now() - drainStarted));
      return Promise.all(listeners.map((l) => l.close(Math.min(left, 1000)))).then(() => undefined);
    });
    listeners.push(
      await listenDualProtocol({
        handler: withCors(edge.handler, c.corsAllowedOrigins),
        streamRoute: edge.streamRoute,
        ...readBounds,
        host: c.host,
        port: c.port,
        logger,
        tls: config.tls,
      }),
    );
    // Port 0 asks for an ephemeral port of its own (tests); the main port's number means one listener.
    if (c.grpcPort !== undefined && (c.grpcPort === 0 || c.grpcPort !== c.port)) {
      listeners.push(
        await listenDualProtocol({
          handler: edge.grpcOnlyHandler,
          streamRoute: edge.streamRoute,
          ...readBounds,
          ...readBounds,
          host: c.host,
          port: c.grpcPort,
          logger,
          tls: config.tls,
        }),
      );
    }
    const [main, grpc] = [listeners[0], listeners[1] ?? listeners[0]];
    if (main === undefined || grpc === undefined) throw new Error("no listener");
    logger.info(
      { url: main.url, grpcUrl: grpc.url, workers: sizing.workersPerProcess, intraOpThreads },
      "inference server listening",
    );

    life.onClose("drain", async () => {
      drainStarted = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), c.shutdownGraceMs);
      });
      // models.close() flushes every queue at once and unloads once queues are empty.
      const drained = await Promise.race([Promise.all([service.whenIdle(), models.close()]), grace]);
      clearTimeout(timer);
      drainTimedOut = drained === "timeout";
      if (drainTimedOut) logger.warn({ inFlight: service.inFlight }, "grace period over; closing anyway");
    });

    // Read once: a CA bundle rarely changes, and a missing file should fail the start, not each reconnect.
    const registryCa = c.registryCaFile === undefined ? undefined : await readFile(c.registryCaFile);
    const follow = (followed: ModelManager, onServed: () => void): void => {
      if (registryUrl === undefined) return;
      const registry = startRegistryServing({
        url: registryUrl,
        token: c.registryToken,
        ca: registryCa,
        name: followed.name,
        stage: c.modelStage,
        cacheDir: join(config.dataDir, "model-cache"),
        manager: followed,
        traffic: models.trafficOf(followed.name) ?? createModelTraffic(),
        // The version behind a split's alias: a manager of its own, in the same pool and budget.
        routeManager: (alias) => managerOf(followed.name, alias),
        logger,
        backoff: overrides.registryBackoff,
        onServed,
      });
      // No new version may start loading while the served ones drain.
      life.onClose(`registry following of ${followed.name}`, () => registry.close());
    };
    // The default model first, so that the models beside it take what the memory limit leaves.
    if (loader !== undefined) {
      await manager.swap(loader);
      readiness.set(true);
    } else {
      follow(manager, () => {
        if (!life.closing) readiness.set(true);
      });
    }
    for (const m of registryModels) follow(m, () => undefined);
    if (registryUrl !== undefined && versionStats !== undefined) {
      const client = createRegistryClient({ url: registryUrl, token: c.registryToken, ca: registryCa });
      const reporter = startTrafficStatsReporter({
        rpc: client.rpc,
        book: versionStats,
        models: () => followedNames,
        // Unique per server, not per process: tests (and embedders) may run several in one.
        replicaId: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
        intervalMs: c.trafficReportIntervalMs,
        logger,
      });
      life.onClose("traffic reports", async () => {
        await reporter.close();
        client.close();
      });
    }
    // The local files beside it, one at a time in MODEL_PATHS order: a file that cannot be loaded
    // (or does not fit the memory limit) leaves that model not ready, with the reason in
    // GET /models, and the server serving.
    for (const m of localModels) {
      try {
        await m.manager.swap(createLocalFileLoader({ path: m.path, name: m.name }));
      } catch (err) {
        logger.error({ err, model: m.name, path: m.path }, "model not served: it cannot be loaded");
      }
    }

    life.onClose("admission of new requests", () => {
      logger.info({ inFlight: service.inFlight, graceMs: c.shutdownGraceMs }, "draining");
      readiness.set(false);
      service.beginDrain();
    });
    return {
      url: main.url,
      grpcUrl: grpc.url,
      manager,
      models,
      service,
      metrics,
      readiness,
      shutdown: () => life.close(),
    };
  });
}

/**
 * The authenticator of INFERENCE_AUTH=token, undefined with "none": API tokens verified by the
 * registry's WhoAmI (cached, INFERENCE_AUTH_CACHE_TTL_MS), OIDC JWTs verified locally.
 */
async function inferenceAuthenticator(
  config: Config,
  life: Lifecycle,
  logger: Logger,
): Promise<Authenticator | undefined> {
  const { auth } = config;
  const url = config.inference.registryUrl;
  if (auth.inferenceMode === "none") {
    if (!isLoopback(config.inference.host)) {
      logger.warn(
        { host: config.inference.host },
        "authentication is off (INFERENCE_AUTH=none) on a non-loopback address: anyone who can reach the port can predict; set INFERENCE_AUTH=token or keep the port on a private network",
      );
    }
    return undefined;
  }
  if (url === undefined && auth.oidc === undefined) {
    throw new ConfigError("INFERENCE_AUTH=token needs REGISTRY_URL (API tokens) or OIDC_ISSUER (JWTs)");
  }
  const tokens =
    url === undefined
      ? undefined
      : await life.start(
          "token verification by the registry",
          () => createRegistryTokenVerifier({ url, ttlMs: auth.inferenceCacheTtlMs }),
          (v) => v.close(),
        );
  const oidc = auth.oidc === undefined ? undefined : createOidcVerifier(auth.oidc);
  logger.info(
    { apiTokens: url !== undefined, oidc: auth.oidc?.issuer },
    "INFERENCE_AUTH=token: predictions need a bearer token",
  );
  return createBearerAuthenticator({ tokens, oidc });
}
