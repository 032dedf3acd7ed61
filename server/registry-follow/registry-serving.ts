/**
 * Serving from the model registry (REGISTRY_URL, MODEL_NAME, MODEL_STAGE): wires the registry
 * client, the local model cache, the model's watched state, the watcher and the stage follower
 * around a model manager. The composition root starts it once per followed model and closes it
 * before draining.
 *
 * It also applies the model's traffic split (the model tag `mlpipe.traffic_split`): each alias of
 * the split other than the followed one gets a model manager of its own, kept on the alias's
 * version by a stage follower of its own (loaded, warmed and hot-swapped like the followed
 * version), and the split is put in force in the model's traffic. An alias that leaves the split
 * has its follower stopped and its version unloaded once its queued requests finish.
 *
 * The model's shadow routes (the model tag `mlpipe.shadow`) are applied the same way: each shadow
 * alias other than the followed one gets a manager and follower (shared with the split when the
 * alias is in both), and the routes are put in force in the model's traffic.
 */
import type { Logger } from "../../core/logger.js";
import { parseShadowRoutes, type ShadowRoute, shadowTag } from "../../core/validation/shadow-routes.js";
import { parseTrafficSplit, type TrafficRoute, trafficSplitTag } from "../../core/validation/traffic-split.js";
import { createModelCache } from "../models/model-cache.js";
import type { LoadedModel, ModelManager } from "../models/model-manager.js";
import type { ModelTraffic } from "../routing/model-traffic.js";
import { createRegistryClient } from "./registry-client.js";
import { createRegistryModelLoader } from "./registry-model-loader.js";
import { createRegistryModelState } from "./registry-model-state.js";
import { startRegistryWatcher } from "./registry-watcher.js";
import type { BackoffOptions } from "./retry-backoff.js";
import { createStageFollower, type StageFollower } from "./stage-follower.js";

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
  /** CA certificates, PEM, trusted for an https registry (MLPIPE_CA_FILE's content); default Node's bundle only. */
  readonly ca?: string | Buffer | undefined;
  /** Root of the model cache, `<MLPIPE_DATA_DIR>/model-cache`. */
  readonly cacheDir: string;
  readonly manager: ModelManager;
  /** The model's traffic split in force, set here as the registry changes it. */
  readonly traffic: ModelTraffic;
  /** Makes the manager of the version behind a split's alias (sharing the pool and memory budget). */
  readonly routeManager: (alias: string) => ModelManager;
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

/** A split's alias other than the followed one: its manager and the follower keeping it on the alias's version. */
interface RouteServing {
  readonly manager: ModelManager;
  readonly follower: StageFollower;
}

/** Starts watching the model and serving the version its stage or alias names, as it moves. */
export function startRegistryServing(options: RegistryServingOptions): RegistryServing {
  const { name, logger, manager, traffic } = options;
  const client = createRegistryClient({ url: options.url, token: options.token, ca: options.ca });
  const cache = createModelCache(options.cacheDir);
  const state = createRegistryModelState();
  const backoff = options.backoff === undefined ? {} : { backoff: options.backoff };
  const routes = new Map<string, RouteServing>();
  let lastSplit: string | undefined;
  let lastShadow: string | undefined;

  /** Keeps in the cache the versions loaded now and `previous` (for a quick rollback); removes the others. */
  function retainCache(previous: string | undefined): void {
    const keep = new Set<string>(previous === undefined ? [] : [previous]);
    for (const m of [manager, ...[...routes.values()].map((r) => r.manager)]) {
      for (const loaded of m.loaded()) keep.add(loaded.artifact.version);
    }
    void cache.retain(name, [...keep]);
  }

  function followerOf(target: ModelManager, spec: string, onServed: (model: LoadedModel) => void): StageFollower {
    return createStageFollower({
      manager: target,
      state,
      name,
      spec,
      logger,
      ...backoff,
      loaderFor: (version, labels, signal) =>
        createRegistryModelLoader({ client, cache, name, version, labels, logger, signal }),
      onServed: (model, previous) => {
        retainCache(previous);
        onServed(model);
      },
    });
  }

  const follower = followerOf(manager, options.stage, options.onServed);

  /** The split the model's tag sets now; none when it has none (or, defensively, an invalid one). */
  function splitNow(value: string | undefined): readonly TrafficRoute[] {
    if (value === undefined) return [];
    const parsed = parseTrafficSplit(value);
    if (parsed.ok) return parsed.routes;
    logger.warn({ model: name, value, problem: parsed.problem }, "ignoring an invalid traffic split");
    return [];
  }

  /** The shadow routes the model's tag sets now; none when it has none (or, defensively, invalid ones). */
  function shadowNow(value: string | undefined): readonly ShadowRoute[] {
    if (value === undefined) return [];
    const parsed = parseShadowRoutes(value);
    if (parsed.ok) return parsed.routes;
    logger.warn({ model: name, value, problem: parsed.problem }, "ignoring invalid shadow routes");
    return [];
  }

  /**
   * Starts and stops the aliases' followers to match the split and the shadow routes, then puts
   * both in force.
   */
  function applySplit(): void {
    const value = state.tag(trafficSplitTag);
    if (value !== lastSplit) logger.info({ model: name, split: value ?? "" }, "traffic split");
    const split = value === lastSplit ? traffic.routes : splitNow(value);
    lastSplit = value;
    const shadowValue = state.tag(shadowTag);
    if (shadowValue !== lastShadow) logger.info({ model: name, shadow: shadowValue ?? "" }, "shadow routes");
    const shadow = shadowValue === lastShadow ? traffic.shadowRoutes : shadowNow(shadowValue);
    lastShadow = shadowValue;
    const wanted = new Set(
      [...split, ...shadow].filter((r) => r.percent > 0 && r.alias !== options.stage).map((r) => r.alias),
    );
    const leaving = [...routes].filter(([alias]) => !wanted.has(alias));
    for (const [alias] of leaving) routes.delete(alias);
    for (const alias of wanted) {
      if (routes.has(alias)) continue;
      const routeManager = options.routeManager(alias);
      routes.set(alias, { manager: routeManager, follower: followerOf(routeManager, alias, () => undefined) });
    }
    for (const r of routes.values()) r.follower.changed();
    const managers = new Map([[options.stage, manager], ...[...routes].map(([a, r]) => [a, r.manager] as const)]);
    traffic.set(split, managers);
    traffic.setShadow(shadow, managers);
    for (const [, r] of leaving) void stopRoute(r);
  }

  async function stopRoute(route: RouteServing): Promise<void> {
    await route.follower.close();
    await route.manager.close();
  }

  logger.info({ registry: options.url, model: name, stage: options.stage }, "serving from the model registry");
  const watcher = startRegistryWatcher({
    client,
    name,
    state,
    logger,
    onChange: () => {
      follower.changed();
      applySplit();
    },
    ...backoff,
  });
  return {
    async close() {
      await watcher.close();
      await follower.close();
      const all = [...routes.values()];
      routes.clear();
      traffic.set([], new Map());
      traffic.setShadow([], new Map());
      await Promise.all(all.map(stopRoute));
      client.close();
    },
  };
}
