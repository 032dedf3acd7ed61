/**
 * The shadow traffic of a registered model, kept in the registry as the model tag `mlpipe.shadow`
 * (like the traffic split, so every replica mirrors the same and every change is audited). Its
 * value lists aliases with the share of the model's requests mirrored to the version behind each,
 * e.g. `challenger=100`: at most 3 aliases, distinct, whole percents 0 to 100 each (they do not sum:
 * each alias gets its own share of the requests). A mirrored request's answer is only compared with
 * the primary's, never returned. The registry refuses any other value; servers and the CLI parse it
 * here too.
 */
import { aliasProblem } from "./aliases.js";

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
  const fail = (problem: string): ShadowRoutesParse => ({ ok: false, problem });
  const entries = value.split(",").map((e) => e.trim());
  if (entries.length > maxShadowRoutes) return fail(`at most ${maxShadowRoutes} aliases`);
  const routes: ShadowRoute[] = [];
  for (const entry of entries) {
    const match = /^([^=\s]+)\s*=\s*(\d{1,3})$/.exec(entry);
    if (match === null) return fail(`"${entry.slice(0, 100)}" is not alias=percent (e.g. challenger=100)`);
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
