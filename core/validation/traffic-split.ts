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

/** The routes of an `alias=percent,...` list, or why it is not one. */
export type AliasPercentsParse =
  | { readonly ok: true; readonly routes: readonly TrafficRoute[] }
  | { readonly ok: false; readonly problem: string };

/**
 * Parses a comma-separated `alias=percent` list (the split's and the shadow's shape): at most
 * `maxRoutes` entries, valid distinct aliases, whole percents 0 to 100. `example` shows the shape
 * in the error.
 */
export function parseAliasPercents(value: string, maxRoutes: number, example: string): AliasPercentsParse {
  const fail = (problem: string): AliasPercentsParse => ({ ok: false, problem });
  const entries = value.split(",").map((e) => e.trim());
  if (entries.length > maxRoutes) return fail(`at most ${maxRoutes} aliases`);
  const routes: TrafficRoute[] = [];
  for (const entry of entries) {
    const match = /^([^=\s]+)\s*=\s*(\d{1,3})$/.exec(entry);
    if (match === null) return fail(`"${entry.slice(0, 100)}" is not alias=percent (e.g. ${example})`);
    const [, alias = "", digits = ""] = match;
    const problem = aliasProblem(alias);
    if (problem !== undefined) return fail(`alias ${problem}`);
    const percent = Number(digits);
    if (percent > 100) return fail(`${alias}'s percent must be 0 to 100`);
    if (routes.some((r) => r.alias === alias)) return fail(`alias "${alias}" is named twice`);
    routes.push({ alias, percent });
  }
  return { ok: true, routes };
}

/** Parses a `mlpipe.traffic_split` value (see the module comment). */
export function parseTrafficSplit(value: string): TrafficSplitParse {
  const parsed = parseAliasPercents(value, maxTrafficRoutes, "champion=90,challenger=10");
  if (!parsed.ok) return parsed;
  const total = parsed.routes.reduce((n, r) => n + r.percent, 0);
  if (total !== 100) return { ok: false, problem: `the percents must sum to 100, not ${total}` };
  return parsed;
}
