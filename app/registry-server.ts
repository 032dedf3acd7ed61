import { fileURLToPath } from "node:url";
import type { Config } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import { createConnectHandler } from "../gateway/connect-handler.js";
import { createConsoleAssets } from "../gateway/console/console-assets.js";
import { withConsoleRoutes } from "../gateway/console/console-http.js";
import { createServingProxy } from "../gateway/console/serving-proxy.js";
import { listenDualProtocol } from "../gateway/dual-protocol-server.js";
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
 * tracking and registry services -> Connect handler (behind the web console's GET routes) -> one
 * dual-protocol listener on `config.registry.host:port` (port 0 picks a free one).
 */
export async function startRegistryServer(
  config: Config,
  logger: Logger,
  options: RegistryServerOptions = {},
): Promise<RegistryServer> {
  const sql = await openSqlClient(config, logger);
  let blobs: BlobStore | undefined;
  let watchHub: WatchHub | undefined;
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
    const rpcHandler = createConnectHandler({
      routes: (router) => {
        router.service(TrackingService, tracking);
        router.service(RegistryService, registry);
      },
      maxRequestBytes: config.registry.maxRequestBytes,
      logger,
    });
    // Web console (issue 15): its static files and Serving proxy answer GET requests of their own
    // paths only; every other request, RPCs included, goes to the RPC handler.
    const consoleLogger = logger.child({ component: "console" });
    const consoleRoutes = [
      await createConsoleAssets({ root: consoleDist, logger: consoleLogger }),
      createServingProxy({
        inferenceUrl: options.consoleInferenceUrl ?? (() => config.console.inferenceUrl),
        logger: consoleLogger,
      }),
    ];
    const handler = withConsoleRoutes(consoleRoutes, rpcHandler);
    const listener = await listenDualProtocol({
      handler,
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
          // Watch streams never end by themselves: close them first so they do not hold the grace period.
          await hub.close();
          await listener.close(graceMs);
          await Promise.allSettled([openBlobs.close(), store.close()]);
        })();
        return closing;
      },
    };
  } catch (err) {
    await watchHub?.close().catch(() => {});
    await blobs?.close().catch(() => {});
    await sql.close().catch(() => {});
    throw err;
  }
}
