/**
 * Which alias of a model's traffic split (canary: e.g. champion 90% / challenger 10%) one request
 * goes to, decided in constant time. The split itself is set in the registry (the model tag
 * `mlpipe.traffic_split`, core/validation/traffic-split.ts) so that every replica follows the same.
 *
 * - A request with a routing key goes where the key's bucket falls: FNV-1a of the key modulo the
 *   total, against the routes' percents accumulated in their order. The same key gets the same
 *   alias on every replica while the split stays the same (a user sees one version).
 * - A request without a key takes the next pick of a smooth weighted round robin (nginx's): over
 *   any 100 consecutive requests each route gets exactly its percent, without randomness.
 */
import type { TrafficRoute } from "../../core/validation/traffic-split.js";

/** The routing decisions of one split. */
export interface TrafficRouter {
  readonly routes: readonly TrafficRoute[];
  /** The alias a request goes to: by `key` when it is not empty (sticky), else the round robin's next pick. */
  route(key: string): string;
}

/** 32-bit FNV-1a over the UTF-16 code units of `key`. */
export function fnv1a(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Creates the router of `routes` (percents summing to 100, as parseTrafficSplit returns them;
 * its round robin starts at zero). Throws when no route has a share.
 */
export function createTrafficRouter(routes: readonly TrafficRoute[]): TrafficRouter {
  const live = routes.filter((r) => r.percent > 0);
  const total = live.reduce((n, r) => n + r.percent, 0);
  if (live.length === 0) throw new Error("a traffic split needs a route with a share");
  const current = live.map(() => 0);
  return {
    routes,
    route(key) {
      if (key !== "") {
        let bucket = fnv1a(key) % total;
        for (const r of live) {
          if (bucket < r.percent) return r.alias;
          bucket -= r.percent;
        }
      }
      let best = 0;
      for (let i = 0; i < live.length; i++) {
        current[i] = (current[i] as number) + (live[i] as TrafficRoute).percent;
        if ((current[i] as number) > (current[best] as number)) best = i;
      }
      current[best] = (current[best] as number) - total;
      return (live[best] as TrafficRoute).alias;
    },
  };
}
