import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { createAccessDecider } from "../auth/access-decider.js";
import { createAuthService } from "../auth/auth-service.js";
import { installBootstrapToken } from "../auth/bootstrap-token.js";
import { guardService } from "../auth/guard-service.js";
import { createRateLimiter } from "../auth/rate-limiter.js";
import { createSqlAuthStore } from "../auth/sql-auth-store.js";
import { createStoreTokenVerifier } from "../auth/token-verifier.js";
import type { Config } from "../core/config.js";
import { Code, MlpipeError } from "../core/errors/index.js";
import type { Logger } from "../core/logger.js";
import { createAuthenticationInterceptor } from "../gateway/auth/authentication-interceptor.js";
import { createBearerAuthenticator } from "../gateway/auth/bearer-authenticator.js";
import { createOidcVerifier } from "../gateway/auth/oidc-verifier.js";
import { createConsoleAssets } from "../gateway/console/console-assets.js";
import { createServingProxy } from "../gateway/console/serving-proxy.js";
import { createDatabaseReadiness } from "../gateway/health/database-readiness.js";
import { withCors } from "../gateway/http/cors.js";
import { listenDualProtocol } from "../gateway/http/dual-protocol-server.js";
import { createMlflowRoute } from "../gateway/mlflow/mlflow-routes.js";
import { createRegistryEdge } from "../gateway/registry/registry-edge.js";
import { createRegistryMetrics } from "../gateway/registry/registry-metrics.js";
import { AuthService } from "../gen/mlpipe/auth/v1/auth_pb.js";
import { RegistryService } from "../gen/mlpipe/registry/v1/registry_pb.js";
import { TrackingService } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { createRegistryService } from "../registry/registry-service.js";
import { createRolloutController } from "../registry/rollout/rollout-controller.js";
import { createTrafficStatsWindow } from "../registry/rollout/traffic-stats-window.js";
import { createSqlRegistryStore } from "../registry/sql-registry-store.js";
import { createWatchHub } from "../registry/watch-hub.js";
import { createBlobStore } from "../storage/blob/create-blob-store.js";
import { openSqlClient } from "../storage/sql/open-sql-client.js";
import type { SqlClient } from "../storage/sql/sql-client.js";
import { createSqlTrackingStore } from "../tracking/sql-tracking-store.js";
import { createTrackingService } from "../tracking/tracking-service.js";
import type { TrackingStore } from "../tracking/tracking-store.js";
import { composeLifecycle } from "./lifecycle.js";
import { isLoopback } from "./loopback.js";

/** A running tracking + registry server. */
export interface RegistryServer {
  /** Base URL, e.g. `http://127.0.0.1:5000`: Connect and gRPC-Web over HTTP/1.1 or HTTP/2. */
  readonly url: string;
  /** The bound port (gRPC clients dial `host:port` over cleartext HTTP/2). */
  readonly port: number;
  /**
   * Stops accepting, lets in-flight calls finish for up to `graceMs` (default 10 s), then closes
   * the listener, the artifact store and the database. Idempotent.
   */
  close(graceMs?: number): Promise<void>;
}

/** Options of {@link startRegistryServer}. */
export interface RegistryServerOptions {
  /**
   * The inference server the console's Serving page reads, asked at each request; default
   * `config.console.inferenceUrl` (CONSOLE_INFERENCE_URL). `mlpipe start` passes its own.
   */
  readonly consoleInferenceUrl?: () => string | undefined;
}

/** Directory of the console's committed build, served at `/`. */
const consoleDist = fileURLToPath(new URL("../console/dist", import.meta.url));

/**
 * The composition root of the tracking + registry server: metadata database (PGlite or
 * PostgreSQL, migrated) -> artifact blob store (local or S3) -> tracking store (with the
 * "Default" experiment) and model registry store (with its watch hub over LISTEN/NOTIFY) ->
 * tracking and registry services -> their edge (with /metrics, /health, /health/live,
 * /health/ready and grpc.health.v1.Health: ready = the database answers; MLflow's REST API and
 * the web console's GET routes in front of the RPCs) -> one dual-protocol
 * listener on `config.registry.host:port` (port 0 picks a free one). Parts register with a lifecycle as they
 * start (app/lifecycle.ts): a failed start closes what started, shutdown closes in reverse order
 * (watch streams first, so they do not hold the grace period, then the listener, the watch hub,
 * the artifact store and the database).
 */
export async function startRegistryServer(
  config: Config,
  logger: Logger,
  options: RegistryServerOptions = {},
): Promise<RegistryServer> {
  return composeLifecycle(logger, async (life) => {
    // The grace period close() was given, for the listener's close step.
    let graceMs: number | undefined;
    const sql = await life.start(
      "database",
      () => openSqlClient(config, logger),
      (client) => client.close(),
    );
    const blobs = await life.start(
      "artifact store",
      () => createBlobStore(config),
      (b) => b.close(),
    );
    const store = createSqlTrackingStore(sql, { artifactRootUri: blobs.rootUri });
    await store.ensureDefaultExperiment();
    const tracking = createTrackingService({ store, blobs, logger });
    const registryStore = createSqlRegistryStore(sql);
    const hub = createWatchHub({
      client: sql,
      latestSequences: (ids) => registryStore.latestSequences(ids),
      pollIntervalMs: 1_000,
      logger,
    });
    await life.start(
      "watch hub",
      () => hub.start(),
      () => hub.close(),
    );
    // Readiness = the database answers a probe (one probe feeds /health/ready, gRPC Health and the metric).
    const database = await life.start(
      "database probe",
      () => createDatabaseReadiness({ ping: () => sql.query("SELECT 1"), intervalMs: 5_000, timeoutMs: 2_000, logger }),
      (db) => db.close(),
    );
    const metrics = createRegistryMetrics({
      databaseUp: () => database.readiness.serving,
      watchSubscribers: () => hub.size,
      poolStats: () => sql.poolStats?.(),
    });
    // Progressive rollouts (issue 16): the inference servers' reports feed the controller here.
    const trafficStats = createTrafficStatsWindow();
    if (config.registry.rolloutTickMs > 0) {
      await life.start(
        "rollout controller",
        () =>
          createRolloutController({
            store: registryStore,
            stats: trafficStats,
            logger: logger.child({ component: "rollout" }),
            tickMs: config.registry.rolloutTickMs,
          }),
        (controller) => controller.close(),
      );
    }
    const registry = createRegistryService({
      store: registryStore,
      runArtifacts: store,
      blobs,
      watchHub: hub,
      logger,
      trafficStats,
    });
    const auth = config.auth.mode === "token" ? await createRegistryAuth(config, sql, store, logger) : undefined;
    if (auth === undefined && !isLoopback(config.registry.host)) {
      logger.warn(
        { host: config.registry.host },
        "authentication is off (REGISTRY_AUTH=none) on a non-loopback address: anyone who can reach the port can read and change everything; set REGISTRY_AUTH=token",
      );
    }
    // Web console (issue 15): its static files and Serving proxy answer GET requests of their own
    // paths only; every other request, RPCs included, goes on to the RPC handler.
    const consoleLogger = logger.child({ component: "console" });
    const consoleRoutes = [
      await createConsoleAssets({ root: consoleDist, logger: consoleLogger }),
      createServingProxy({
        inferenceUrl: options.consoleInferenceUrl ?? (() => config.console.inferenceUrl),
        logger: consoleLogger,
        authenticate: auth?.authenticate,
      }),
    ];
    // Every surface serves the same implementations, behind the same guard when auth is on.
    const guardedTracking = auth === undefined ? tracking : auth.guard(TrackingService, tracking);
    const guardedRegistry = auth === undefined ? registry : auth.guard(RegistryService, registry);
    // MLflow's REST API (issue 14) over the very service implementations the RPCs serve.
    const mlflowRoute = createMlflowRoute({
      tracking: guardedTracking,
      registry: guardedRegistry,
      artifactRootUri: blobs.rootUri,
      maxRequestBytes: config.registry.maxRequestBytes,
      requestReadTimeoutMs: config.registry.requestReadTimeoutMs,
      logger,
      authenticate: auth?.authenticate,
    });
    const listener = await life.start(
      "listener",
      () =>
        listenDualProtocol({
          handler: withCors(
            createRegistryEdge({
              tracking: guardedTracking,
              registry: guardedRegistry,
              ...(auth === undefined ? {} : { auth: { service: auth.service, interceptor: auth.interceptor } }),
              metrics,
              readiness: database.readiness,
              routes: [mlflowRoute, ...consoleRoutes],
              maxRequestBytes: config.registry.maxRequestBytes,
              requestReadTimeoutMs: config.registry.requestReadTimeoutMs,
              logger,
            }),
            config.registry.corsAllowedOrigins,
          ),
          host: config.registry.host,
          port: config.registry.port,
          logger,
          tls: config.tls,
        }),
      (l) => l.close(graceMs),
    );
    // Watch streams never end by themselves: the hub ends them before the listener's grace period
    // starts (the hub's own step, for a start that fails halfway, then finds it closed).
    life.onClose("watch streams", () => hub.close());
    return {
      url: listener.url,
      port: listener.port,
      close(grace?: number) {
        graceMs ??= grace;
        return life.close();
      },
    };
  });
}

/** Whether a bind address only accepts connections from this machine. */
/**
 * Authentication and authorization (REGISTRY_AUTH=token): the token and grant store in the
 * metadata database, the bootstrap administrator's token, the edge's authenticator and the guard
 * applied to each service.
 */
async function createRegistryAuth(config: Config, sql: SqlClient, tracking: TrackingStore, logger: Logger) {
  const store = createSqlAuthStore(sql);
  if (config.auth.bootstrapTokenFile !== undefined) {
    await installBootstrapToken(store, await readFile(config.auth.bootstrapTokenFile, "utf8"));
  } else {
    logger.info("no AUTH_BOOTSTRAP_TOKEN_FILE: only the API tokens already in the database are accepted");
  }
  const tokens = createStoreTokenVerifier({
    store,
    onTouchError: (err) => logger.warn({ err }, "could not record an API token's last use"),
  });
  const guardOptions = {
    decider: createAccessDecider({ store, defaultPermission: config.auth.defaultPermission }),
    store,
    productionPermission: config.auth.productionPermission,
    ...(config.auth.writeRatePerSecond === 0
      ? {}
      : {
          writeLimiter: createRateLimiter({
            ratePerSecond: config.auth.writeRatePerSecond,
            burst: config.auth.writeBurst,
          }),
        }),
    async experimentOfRun(runId: string): Promise<string | undefined> {
      try {
        return (await tracking.getRun(runId)).info?.experimentId;
      } catch (err) {
        if (err instanceof MlpipeError && (err.code === Code.NotFound || err.code === Code.InvalidArgument)) {
          return undefined;
        }
        throw err;
      }
    },
  };
  // OIDC JWTs (OIDC_ISSUER) are accepted beside API tokens, told apart by their shape.
  const oidc = config.auth.oidc === undefined ? undefined : createOidcVerifier(config.auth.oidc);
  const authenticate = createBearerAuthenticator({ tokens, oidc });
  return {
    guard: <S extends DescService>(service: S, impl: ServiceImpl<S>) => guardService(service, impl, guardOptions),
    service: guardService(
      AuthService,
      createAuthService({
        store,
        decider: guardOptions.decider,
        productionPermission: guardOptions.productionPermission,
      }),
      guardOptions,
    ),
    authenticate,
    interceptor: createAuthenticationInterceptor(authenticate, logger),
  };
}
