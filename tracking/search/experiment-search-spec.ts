import { trackingErrors } from "../../core/errors/tracking-errors.js";
import { plainAttribute, type SearchSpec } from "../../storage/query/search-spec.js";
import { maxOrderByClauses } from "./run-search-spec.js";

/**
 * What SearchExperiments filters and orders on: `name`, `tags.<key>`, `creation_time`,
 * `last_update_time` (ms) and `experiment_id` (a whole number), also written `attributes.<name>`.
 * Errors are TRACKING_INVALID_FILTER and TRACKING_INVALID_ORDER_BY, as for runs.
 */
export const experimentSearchSpec: SearchSpec = {
  what: "experiments",
  from: "experiments e",
  select: { id: "e.experiment_id" },
  uniqueOrder: [{ expr: "e.experiment_id", type: "bigint" }],
  lifecycleColumn: "e.lifecycle_stage",
  keyed: {
    tag: {
      prefixes: ["tag", "tags"],
      table: "experiment_tags",
      owner: { experiment_id: "e.experiment_id" },
      type: "string",
    },
  },
  attributes: {
    name: plainAttribute("e.name", "string"),
    creation_time: plainAttribute("e.creation_time", "integer"),
    last_update_time: plainAttribute("e.last_update_time", "integer"),
    experiment_id: plainAttribute("e.experiment_id", "integer"),
  },
  attributePrefixes: ["attr", "attribute", "attributes"],
  maxOrderByClauses,
  invalidFilter: (position, reason) => trackingErrors.invalidFilter(position, reason),
  invalidOrderBy: (clause, reason) => trackingErrors.invalidOrderBy(clause, reason),
};
