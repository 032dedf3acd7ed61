import { plainAttribute, type SearchSpec } from "../storage/query/search-spec.js";
import { registrySearchSpec } from "./registry-search.js";
import { modelRowColumns } from "./sql-registry-rows.js";

/**
 * What SearchRegisteredModels filters and orders on: `name`, `creation_time`,
 * `last_updated_time` (ms) and `tags.<key>`, in the search language of runs (AND, OR,
 * parentheses, IN, LIKE, ILIKE, IS NULL). Default order: name; the name breaks ties.
 */
export const modelSearchSpec: SearchSpec = registrySearchSpec({
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
    name: plainAttribute("m.name", "string"),
    creation_time: plainAttribute("m.creation_time", "integer"),
    last_updated_time: plainAttribute("m.last_updated_time", "integer"),
  },
});
