/**
 * The traffic split of a registered model (canary), kept in the registry as the model tag
 * `mlpipe.traffic_split` so that every inference replica follows the same split (it reaches them
 * in the Watch stream) and every change is in the audit history (MODEL_TAG_SET / _DELETED events).
 * Its value lists aliases of the model with their share of the requests in percent, e.g.
 * `champion=90,challenger=10`: at most 10 routes, distinct aliases, whole percents 0 to 100
 * summing to 100. The registry refuses any other value; servers and the CLI parse it here too.
 */
import { aliasProblem } from "./aliases.js";

/** The model tag that holds the traffic split. */
export const trafficSplitTag = "mlpipe.traffic_split";

/** Most routes of one split. */
export const maxTrafficRoutes = 10;

/** One route: requests to the version behind `alias`. */
export interface TrafficRoute {
  readonly alias: string;
  /** Share of the requests, whole percent 0..100. */
  readonly percent: number;
}

/** The routes of a split value, or why it is not one. */
export type TrafficSplitParse =
  | { readonly ok: true; readonly routes: readonly TrafficRoute[] }
  | { readonly ok: false; readonly problem: string };

/** Parses a `mlpipe.traffic_split` value (see the module comment). */
export function parseTrafficSplit(value: string): TrafficSplitParse {
  const fail = (problem: string): TrafficSplitParse => ({ ok: false, problem });
  const entries = value.split(",").map((e) => e.trim());
  if (entries.length > maxTrafficRoutes) return fail(`at most ${maxTrafficRoutes} routes`);
  const routes: TrafficRoute[] = [];
  for (const entry of entries) {
    const match = /^([^=\s]+)\s*=\s*(\d{1,3})$/.exec(entry);
    if (match === null) return fail(`"${entry.slice(0, 100)}" is not alias=percent (e.g. champion=90,challenger=10)`);
    const [, alias = "", digits = ""] = match;
    const problem = aliasProblem(alias);
    if (problem !== undefined) return fail(`alias ${problem}`);
    const percent = Number(digits);
    if (percent > 100) return fail(`${alias}'s percent must be 0 to 100`);
    if (routes.some((r) => r.alias === alias)) return fail(`alias "${alias}" is named twice`);
    routes.push({ alias, percent });
  }
  const total = routes.reduce((n, r) => n + r.percent, 0);
  if (total !== 100) return fail(`the percents must sum to 100, not ${total}`);
  return { ok: true, routes };
}
