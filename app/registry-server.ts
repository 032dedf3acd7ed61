import type { Config } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import { createConnectHandler } from "../gateway/connect-handler.js";
import { listenDualProtocol } from "../gateway/dual-protocol-server.js";
import { createHealthService } from "../gateway/inference-health-service.js";
import { createDatabaseReadiness, type DatabaseReadiness } from "../gateway/observability/database-readiness.js";
import { createRegistryHttpRoutes } from "../gateway/observability/registry-http-routes.js";
import { createRegistryMetrics } from "../gateway/observability/registry-metrics.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { RegistryService } from "../gen/mlpipe/registry/v1/registry_pb.js";
import { TrackingService } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { createRegistryService } from "../registry/registry-service.js";
import { createSqlRegistryStore } from "../registry/sql-registry-store.js";
import { createWatchHub, type WatchHub } from "../registry/watch-hub.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import { createBlobStore } from "../storage/blob/create-blob-store.js";
import { openSqlClient } from "../storage/sql/open-sql-client.js";
import { SqlTrackingStore } from "../tracking/sql-tracking-store.js";
import { createTrackingService } from "../tracking/tracking-service.js";

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

/**
 * The composition root of the tracking + registry server: metadata database (PGlite or
 * PostgreSQL, migrated) -> artifact blob store (local or S3) -> tracking store (with the
 * "Default" experiment) and model registry store (with its watch hub over LISTEN/NOTIFY) ->
 * tracking and registry services -> Connect handler -> one dual-protocol listener on
 * `config.registry.host:port` (port 0 picks a free one), which also serves /metrics, /health,
 * /health/live, /health/ready and grpc.health.v1.Health (ready = the database answers).
 */
export async function startRegistryServer(config: Config, logger: Logger): Promise<RegistryServer> {
  const sql = await openSqlClient(config, logger);
  let blobs: BlobStore | undefined;
  let watchHub: WatchHub | undefined;
  let database: DatabaseReadiness | undefined;
  try {
    blobs = await createBlobStore(config);
    const store = new SqlTrackingStore(sql, { artifactRootUri: blobs.rootUri });
    await store.ensureDefaultExperiment();
    const tracking = createTrackingService({ store, blobs, logger });
    const registryStore = createSqlRegistryStore(sql);
    const hub = createWatchHub({
      client: sql,
      latestSequences: (ids) => registryStore.latestSequences(ids),
      pollIntervalMs: 1_000,
      logger,
    });
    watchHub = hub;
    await hub.start();
    const registry = createRegistryService({ store: registryStore, blobs, watchHub: hub, logger });
    // Observability (gateway/observability): RPC metrics, /metrics, /health*, grpc.health.v1 = database reachable.
    const db = createDatabaseReadiness({ sql, intervalMs: 5_000, timeoutMs: 2_000, logger });
    database = db;
    const metrics = createRegistryMetrics({
      databaseUp: () => db.readiness.serving,
      watchSubscribers: () => hub.size,
      poolStats: () => sql.poolStats?.(),
    });
    const observability = createRegistryHttpRoutes({ metrics: metrics.registry, readiness: db.readiness, logger });
    const rpc = createConnectHandler({
      routes: (router) => {
        router.service(TrackingService, tracking);
        router.service(RegistryService, registry);
        router.service(Health, createHealthService(db.readiness, [TrackingService.typeName, RegistryService.typeName]));
      },
      interceptors: [metrics.interceptor],
      maxRequestBytes: config.registry.maxRequestBytes,
      logger,
    });
    const listener = await listenDualProtocol({
      handler: (req, res) => {
        if (!observability(req, res)) rpc(req, res);
      },
      host: config.registry.host,
      port: config.registry.port,
      logger,
    });
    const openBlobs = blobs;
    let closing: Promise<void> | undefined;
    return {
      url: listener.url,
      port: listener.port,
      close(graceMs?: number) {
        closing ??= (async () => {
          db.close();
          // Watch streams never end by themselves: close them first so they do not hold the grace period.
          await hub.close();
          await listener.close(graceMs);
          await Promise.allSettled([openBlobs.close(), store.close()]);
        })();
        return closing;
      },
    };
  } catch (err) {
    database?.close();
    await watchHub?.close().catch(() => {});
    await blobs?.close().catch(() => {});
    await sql.close().catch(() => {});
    throw err;
  }
}
