/**
 * The whole platform from one command (`mlpipe start`, `npm start`): the tracking + registry server
 * and the inference server, on the configured storage (embedded PGlite and the local artifact
 * directory by default). The inference server follows the embedded registry over its own API, as
 * it would a remote one, so the same pieces also run as separate processes.
 *
 * The registry always runs in this process (PGlite is single-process, and the registry's watch
 * hub lives in its memory). The inference server runs here too with one HTTP worker process;
 * with more (INFERENCE_HTTP_WORKERS, issue 16), this process is also the primary of an inference
 * cluster (app/inference-cluster.ts) whose worker processes follow the registry over its loopback
 * URL exactly as `mlpipe serve`'s workers follow a remote one (auth, TLS and token as configured).
 */
import { createServer } from "node:net";
import type { Config } from "../core/config.js";
import type { Logger } from "../core/logger.js";
import { createMlpipeClient } from "../sdk/index.js";
import { type DemoModelOutcome, ensureDemoModel } from "./demo-model.js";
import { type InferenceCluster, startInferenceCluster } from "./inference-cluster.js";
import { type InferenceServer, startInferenceServer } from "./inference-server.js";
import { composeLifecycle } from "./lifecycle.js";
import { type RegistryServer, startRegistryServer } from "./registry-server.js";

/** Options of {@link startPlatform}. */
export interface PlatformOptions {
  /**
   * Train and register the iris demo when the registry has no model to serve (default true).
   * Ignored when MODEL_PATH serves a local file.
   */
  readonly demo?: boolean;
  /**
   * HTTP worker processes of the inference server (at least 1; default 1). 1 serves from this
   * process; more fork a node:cluster of them, which re-runs this process's command line in each:
   * that command must serve as a cluster worker there (cli/run-cluster-worker.ts).
   */
  readonly httpWorkers?: number;
}

/** Where the platform's inference server runs. */
export type PlatformInference =
  /** In this process (one HTTP worker process). */
  | { readonly kind: "in-process"; readonly server: InferenceServer }
  /** In worker processes of a node:cluster whose primary is this process. */
  | { readonly kind: "cluster"; readonly cluster: InferenceCluster };

/** A running platform. */
export interface Platform {
  /** Base URL of the tracking + registry server (gRPC, Connect, gRPC-Web), e.g. http://127.0.0.1:5000. */
  readonly registryUrl: string;
  /** Base URL of the inference server's JSON routes, Connect and gRPC-Web, e.g. http://127.0.0.1:8000. */
  readonly inferenceUrl: string;
  /** Base URL for gRPC clients of the inference server (INFERENCE_GRPC_PORT, or the main port). */
  readonly inferenceGrpcUrl: string;
  /** What startup found in the registry: the demo trained now, a version already there, or nothing to serve. */
  readonly model: DemoModelOutcome | { readonly kind: "local-file" };
  readonly registry: RegistryServer;
  readonly inference: PlatformInference;
  /** Processes serving inference (1: this one; more: the cluster's worker processes). */
  readonly inferenceProcesses: number;
  /**
   * True while the inference server reports ready: its model loaded and warmed, and with a
   * cluster in every worker process (what /health/ready answers).
   */
  readonly serving: boolean;
  /**
   * Resolves once the inference server serves a model (at once when it already does). It stays
   * pending while the registry has nothing at MODEL_STAGE; it never rejects.
   */
  readonly ready: Promise<void>;
  /**
   * Graceful shutdown: the inference server drains (in-flight requests finish, within
   * SHUTDOWN_GRACE_MS; every worker process of a cluster exits), then the registry closes its
   * listener, artifact store and database. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts the registry on `config.registry` (port 5000 by default), makes sure a model is there to
 * serve (see {@link ensureDemoModel}), then starts the inference server on `config.inference`
 * (port 8000) serving MODEL_NAME at MODEL_STAGE from that registry, in this process or in
 * `options.httpWorkers` worker processes. REGISTRY_URL is not used: the embedded registry is the
 * one served from. Anything failing on the way closes what was started.
 */
export async function startPlatform(config: Config, logger: Logger, options: PlatformOptions = {}): Promise<Platform> {
  // Fail before opening the database: a second `mlpipe start` on the same data directory must not
  // open the embedded database the first one is using.
  await ensurePortFree(config.registry.host, config.registry.port);
  await ensurePortFree(config.inference.host, config.inference.port);
  return composeLifecycle(logger, async (life) => {
    let inferenceUrl: string | undefined;
    // The console's Serving page shows CONSOLE_INFERENCE_URL when set, else this platform's own server.
    const registry = await life.start(
      "registry",
      () =>
        startRegistryServer(config, logger.child({ component: "registry" }), {
          consoleInferenceUrl: () => config.console.inferenceUrl ?? inferenceUrl,
        }),
      (r) => r.close(),
    );
    const c = config.inference;
    let model: Platform["model"] = { kind: "local-file" };
    if (c.modelPath === undefined) {
      const client = createMlpipeClient({ url: registry.url, actor: "mlpipe-platform" });
      if (options.demo === false) {
        model = { kind: "nothing-to-serve" };
      } else {
        logger.info({ model: c.modelName, stage: c.modelStage }, "checking the registry for a model to serve");
        model = await ensureDemoModel({ client, modelName: c.modelName, modelStage: c.modelStage });
        if (model.kind === "trained") {
          logger.info(
            { model: c.modelName, version: model.version.toString(), runId: model.runId, accuracy: model.accuracy },
            "trained and registered the iris demo model",
          );
        }
      }
    }
    const inferenceConfig: Config = { ...config, inference: { ...c, registryUrl: registry.url } };
    const processes = Math.max(1, options.httpWorkers ?? 1);
    const inferenceLogger = logger.child({ component: "inference" });
    // The inference server drains before the registry it follows closes.
    const inference: PlatformInference =
      processes === 1
        ? {
            kind: "in-process",
            server: await life.start(
              "inference",
              () => startInferenceServer(inferenceConfig, inferenceLogger),
              (server) => server.shutdown(),
            ),
          }
        : {
            kind: "cluster",
            cluster: await life.start(
              "inference cluster",
              () =>
                startInferenceCluster(inferenceConfig, inferenceLogger, {
                  processes,
                  // The workers re-run this command, whose config cannot know the registry's
                  // port (0 picks one): they get its URL as a serve worker gets a remote one.
                  workerEnv: { REGISTRY_URL: registry.url },
                }),
              (cluster) => cluster.shutdown(),
            ),
          };
    const served = inference.kind === "in-process" ? inference.server : inference.cluster;
    inferenceUrl = served.url;
    const readiness = inference.kind === "in-process" ? inference.server.readiness : inference.cluster.readiness;
    const ready = new Promise<void>((resolve) => {
      if (readiness.serving) {
        resolve();
        return;
      }
      const unsubscribe = readiness.subscribe((serving) => {
        if (!serving) return;
        unsubscribe();
        resolve();
      });
    });
    return {
      registryUrl: registry.url,
      inferenceUrl: served.url,
      inferenceGrpcUrl: served.grpcUrl,
      model,
      registry,
      inference,
      inferenceProcesses: processes,
      get serving() {
        return readiness.serving;
      },
      ready,
      close: () => life.close(),
    };
  });
}

/** Rejects with the listen error (EADDRINUSE, EACCES) when `host:port` cannot be bound; port 0 always can. */
async function ensurePortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen({ host, port, exclusive: true }, () => resolve());
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}
