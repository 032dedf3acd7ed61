/**
 * The shadow traffic of a registered model, kept in the registry as the model tag `mlpipe.shadow`
 * (like the traffic split, so every replica mirrors the same and every change is audited). Its
 * value lists aliases with the share of the model's requests mirrored to the version behind each,
 * e.g. `challenger=100`: at most 3 aliases, distinct, whole percents 0 to 100 each (they do not sum:
 * each alias gets its own share of the requests). A mirrored request's answer is only compared with
 * the primary's, never returned. The registry refuses any other value; servers and the CLI parse it
 * here too.
 */
import { parseAliasPercents } from "./traffic-split.js";

/** The model tag that holds the shadow routes. */
export const shadowTag = "mlpipe.shadow";

/** Most aliases mirrored at once (each mirror costs a computation of the request). */
export const maxShadowRoutes = 3;

/** One shadow route: `percent` of the requests mirrored to the version behind `alias`. */
export interface ShadowRoute {
  readonly alias: string;
  /** Share of the requests mirrored, whole percent 0..100. */
  readonly percent: number;
}

/** The routes of a shadow value, or why it is not one. */
export type ShadowRoutesParse =
  | { readonly ok: true; readonly routes: readonly ShadowRoute[] }
  | { readonly ok: false; readonly problem: string };

/** Parses a `mlpipe.shadow` value (see the module comment). */
export function parseShadowRoutes(value: string): ShadowRoutesParse {
  return parseAliasPercents(value, maxShadowRoutes, "challenger=100");
}
