import type { SearchSpec } from "../storage/query/search-spec.js";
import { invalidRegistryFilter, invalidRegistryOrderBy, maxRegistryOrderByClauses } from "./registry-search.js";
import { modelRowColumns } from "./sql-registry-rows.js";

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
