/**
 * The aliases a model's traffic split (`mlpipe.traffic_split`) and shadow routes (`mlpipe.shadow`)
 * name must exist: a route to a missing alias would silently send its share to the followed version
 * (or mirror nothing). The registry store checks it inside the transaction that holds the model's
 * row lock, so a concurrent alias deletion and tag change cannot pass each other: setting such a
 * tag needs every alias it names, and deleting an alias (or the version behind it) that a route
 * still names is refused until the split or shadow changes.
 */
import { registryErrors } from "../core/errors/registry-errors.js";
import { parseShadowRoutes, shadowTag } from "../core/validation/shadow-routes.js";
import { parseTrafficSplit, trafficSplitTag } from "../core/validation/traffic-split.js";
import type { SqlQueryable } from "../storage/sql/sql-client.js";
import type { ModelRow } from "./sql-registry-rows.js";

/** The aliases a routing tag's value names, or none when `key` is not a routing tag. */
function routedAliasesOf(key: string, value: string): string[] {
  const parsed =
    key === trafficSplitTag ? parseTrafficSplit(value) : key === shadowTag ? parseShadowRoutes(value) : undefined;
  // The service validated the value's shape; an unparsable stored value routes nothing.
  return parsed?.ok === true ? parsed.routes.map((r) => r.alias) : [];
}

/**
 * REGISTRY_ROUTE_ALIAS_MISSING when `key` is a routing tag whose `value` names an alias the model
 * does not have. Call under the model's row lock.
 */
export async function checkRouteAliasesExist(
  tx: SqlQueryable,
  model: Pick<ModelRow, "model_id" | "name">,
  key: string,
  value: string,
  field: string,
): Promise<void> {
  const named = routedAliasesOf(key, value);
  if (named.length === 0) return;
  const found = await tx.query<{ alias: string }>(
    "SELECT alias FROM registered_model_aliases WHERE model_id = $1 AND alias = ANY($2::text[])",
    [model.model_id, named],
  );
  const existing = new Set(found.rows.map((r) => r.alias));
  const missing = named.find((alias) => !existing.has(alias));
  if (missing !== undefined) throw registryErrors.routeAliasMissing(model.name, key, missing, field);
}

/**
 * REGISTRY_ALIAS_IN_USE when the model's traffic split or shadow routes name one of `aliases`,
 * which are about to be deleted (`field` names what the request deletes: alias or version). Call
 * under the model's row lock.
 */
export async function checkAliasesUnrouted(
  tx: SqlQueryable,
  model: Pick<ModelRow, "model_id" | "name">,
  aliases: readonly string[],
  field: string,
): Promise<void> {
  if (aliases.length === 0) return;
  const tags = await tx.query<{ key: string; value: string }>(
    "SELECT key, value FROM registered_model_tags WHERE model_id = $1 AND key IN ($2, $3) ORDER BY key DESC",
    [model.model_id, trafficSplitTag, shadowTag],
  );
  for (const { key, value } of tags.rows) {
    const used = routedAliasesOf(key, value).find((alias) => aliases.includes(alias));
    if (used !== undefined) throw registryErrors.aliasInUse(model.name, used, key, field);
  }
}
