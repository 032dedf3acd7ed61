/**
 * The traffic split one model applies now: its routes and the model manager serving the version
 * behind each route's alias. The registry follower sets it when the split or the aliases change;
 * the data plane asks it, per request that pins no version, which manager answers.
 *
 * A route whose alias has no loaded version yet (it is loading, or the alias points nowhere) sends
 * its requests to the model's default manager (the followed stage or alias) instead of failing
 * them: a canary that cannot load never costs the model its traffic.
 *
 * It also holds the model's shadow routes (the model tag `mlpipe.shadow`): which aliases a request
 * is mirrored to. Each route mirrors exactly its percent of the requests by an accumulator (no
 * randomness: over any 100 requests, `percent` of them), and only while its version is loaded.
 */
import type { ShadowRoute } from "../../core/validation/shadow-routes.js";
import type { TrafficRoute } from "../../core/validation/traffic-split.js";
import type { ModelManager } from "../models/model-manager.js";
import { createTrafficRouter, type TrafficRouter } from "./traffic-router.js";

/** A version a request is mirrored to: the alias (a metric label) and its manager. */
export interface ShadowTarget {
  readonly alias: string;
  readonly manager: ModelManager;
}

/** A model's traffic split in force. */
export interface ModelTraffic {
  /** The routes in force; empty when the model has no split. */
  readonly routes: readonly TrafficRoute[];
  /**
   * Puts a split in force: `managers` serves the version behind each alias (aliases it lacks go
   * to the default manager). Empty `routes` removes the split.
   */
  set(routes: readonly TrafficRoute[], managers: ReadonlyMap<string, ModelManager>): void;
  /**
   * The manager that answers a request pinning no version (`key`: its routing key, "" for none);
   * undefined without a split or when the chosen route's version is not loaded (the default
   * manager answers then).
   */
  pick(key: string): ModelManager | undefined;
  /** The managers of the split's routes, for requests pinning a version one of them holds. */
  managers(): readonly ModelManager[];
  /** The manager of a route's alias; undefined when the split has none for it. */
  managerOf(alias: string): ModelManager | undefined;
  /** The shadow routes in force; empty when the model has none. */
  readonly shadowRoutes: readonly ShadowRoute[];
  /**
   * Puts shadow routes in force: `managers` serves the version behind each alias (an alias it
   * lacks is not mirrored). Empty `routes` stops mirroring.
   */
  setShadow(routes: readonly ShadowRoute[], managers: ReadonlyMap<string, ModelManager>): void;
  /** The versions this request is mirrored to (advances each route's accumulator); often empty. */
  shadowPick(): readonly ShadowTarget[];
}

const noTargets: readonly ShadowTarget[] = [];

/** A shadow route in force with its accumulator (mirrors when it reaches 100). */
interface ShadowSlot {
  readonly alias: string;
  readonly percent: number;
  readonly manager: ModelManager;
  credit: number;
}

/** Creates a model's traffic with no split. */
export function createModelTraffic(): ModelTraffic {
  let router: TrafficRouter | undefined;
  let byAlias: ReadonlyMap<string, ModelManager> = new Map();
  let shadowRoutes: readonly ShadowRoute[] = [];
  let shadows: ShadowSlot[] = [];
  return {
    get routes() {
      return router?.routes ?? [];
    },
    set(routes, managers) {
      router = routes.some((r) => r.percent > 0) ? createTrafficRouter(routes) : undefined;
      byAlias = router === undefined ? new Map() : new Map(managers);
    },
    pick(key) {
      if (router === undefined) return undefined;
      const manager = byAlias.get(router.route(key));
      return manager?.served === undefined ? undefined : manager;
    },
    managers() {
      return [...new Set(byAlias.values())];
    },
    managerOf(alias) {
      return byAlias.get(alias);
    },
    get shadowRoutes() {
      return shadowRoutes;
    },
    setShadow(routes, managers) {
      shadowRoutes = routes;
      shadows = [];
      for (const r of routes) {
        const manager = managers.get(r.alias);
        if (manager !== undefined && r.percent > 0) shadows.push({ ...r, manager, credit: 0 });
      }
    },
    shadowPick() {
      if (shadows.length === 0) return noTargets;
      let picked: ShadowTarget[] | undefined;
      for (const s of shadows) {
        s.credit += s.percent;
        if (s.credit < 100) continue;
        s.credit -= 100;
        if (s.manager.served === undefined) continue;
        picked ??= [];
        picked.push({ alias: s.alias, manager: s.manager });
      }
      return picked ?? noTargets;
    },
  };
}
