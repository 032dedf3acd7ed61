import { commonErrors } from "../core/errors/common-errors.js";
import type { SearchSpec } from "../storage/query/search-spec.js";

/** Columns of `registered_models` a model is built from, by name (BIGINTs arrive as decimal strings). */
export const modelRowColumns = {
  model_id: "m.model_id",
  name: "m.name",
  description: "m.description",
  creation_time: "m.creation_time",
  last_updated_time: "m.last_updated_time",
} as const;

/** Most order_by clauses of the registry's searches (the name and version always end the order). */
export const maxRegistryOrderByClauses = 3;

/** The registry's filter errors: INVALID_ARGUMENT naming `filter` and the 1-based position. */
export function invalidRegistryFilter(position: number, reason: string): Error {
  return commonErrors.invalidArgument("filter", `at position ${position}: ${reason}`);
}

/** The registry's order_by errors: INVALID_ARGUMENT naming `order_by` and the clause. */
export function invalidRegistryOrderBy(clause: string, reason: string): Error {
  return commonErrors.invalidArgument("order_by", `"${clause}": ${reason}`);
}

/**
 * What SearchRegisteredModels filters and orders on: `name`, `creation_time`,
 * `last_updated_time` (ms) and `tags.<key>`, in the search language of runs (AND, OR,
 * parentheses, IN, LIKE, ILIKE, IS NULL). Default order: name; the name breaks ties.
 */
export const modelSearchSpec: SearchSpec = {
  what: "registered models",
  from: "registered_models m",
  select: modelRowColumns,
  uniqueOrder: [{ expr: "m.name", type: "text" }],
  keyed: {
    tag: {
      prefixes: ["tag", "tags"],
      table: "registered_model_tags",
      owner: { model_id: "m.model_id" },
      type: "string",
    },
  },
  attributes: {
    name: { expr: "m.name", type: "string", sqlType: "text", nullable: false, aliases: [] },
    creation_time: { expr: "m.creation_time", type: "integer", sqlType: "bigint", nullable: false, aliases: [] },
    last_updated_time: {
      expr: "m.last_updated_time",
      type: "integer",
      sqlType: "bigint",
      nullable: false,
      aliases: [],
    },
  },
  attributePrefixes: [],
  maxOrderByClauses: maxRegistryOrderByClauses,
  invalidFilter: invalidRegistryFilter,
  invalidOrderBy: invalidRegistryOrderBy,
};
