/**
 * Serving from the model registry (REGISTRY_URL, MODEL_NAME, MODEL_STAGE): wires the registry
 * client, the local model cache, the model's watched state, the watcher and the stage follower
 * around a model manager. The composition root starts it once and closes it before draining.
 */
import type { Logger } from "../../core/logger.js";
import { createModelCache } from "../models/model-cache.js";
import type { LoadedModel, ModelManager } from "../models/model-manager.js";
import { createRegistryClient } from "./registry-client.js";
import { createRegistryModelLoader } from "./registry-model-loader.js";
import { createRegistryModelState } from "./registry-model-state.js";
import { startRegistryWatcher } from "./registry-watcher.js";
import type { BackoffOptions } from "./retry-backoff.js";
import { createStageFollower } from "./stage-follower.js";

/** Options of {@link startRegistryServing}. */
export interface RegistryServingOptions {
  /** Registry base URL (REGISTRY_URL). */
  readonly url: string;
  /** Registered model name (MODEL_NAME). */
  readonly name: string;
  /** Stage name or alias to serve (MODEL_STAGE). */
  readonly stage: string;
  /** API token for a registry with REGISTRY_AUTH=token (MLPIPE_TOKEN); default none. */
  readonly token?: string | undefined;
  /** Root of the model cache, `<MLPIPE_DATA_DIR>/model-cache`. */
  readonly cacheDir: string;
  readonly manager: ModelManager;
  /** Called after each swap to a new version (the first one makes the server ready). */
  readonly onServed: (model: LoadedModel) => void;
  readonly logger: Logger;
  /** Backoff of watch reconnects and load retries; default 200 ms doubling up to 10 s. */
  readonly backoff?: BackoffOptions | undefined;
}

/** Registry serving, running. */
export interface RegistryServing {
  /** Stops watching and loading (a download in progress is aborted) and closes the connection. */
  close(): Promise<void>;
}

/** Starts watching the model and serving the version its stage or alias names, as it moves. */
export function startRegistryServing(options: RegistryServingOptions): RegistryServing {
  const { name, logger, manager } = options;
  const client = createRegistryClient({ url: options.url, token: options.token });
  const cache = createModelCache(options.cacheDir);
  const state = createRegistryModelState();
  const backoff = options.backoff === undefined ? {} : { backoff: options.backoff };
  const follower = createStageFollower({
    manager,
    state,
    name,
    spec: options.stage,
    logger,
    ...backoff,
    loaderFor: (version, labels, signal) =>
      createRegistryModelLoader({ client, cache, name, version, labels, logger, signal }),
    onServed: (model, previous) => {
      // The previous version stays cached for a quick rollback; older ones are removed.
      const keep = previous === undefined ? [model.artifact.version] : [model.artifact.version, previous];
      void cache.retain(name, keep);
      options.onServed(model);
    },
  });
  logger.info({ registry: options.url, model: name, stage: options.stage }, "serving from the model registry");
  const watcher = startRegistryWatcher({ client, name, state, logger, onChange: follower.changed, ...backoff });
  return {
    async close() {
      await watcher.close();
      await follower.close();
      client.close();
    },
  };
}
