import type { SearchSpec } from "./search-spec.js";

/**
 * What SearchExperiments filters and orders on: `name`, `tags.<key>`, `creation_time`,
 * `last_update_time` (ms) and `experiment_id` (a whole number), also written `attributes.<name>`.
 */
export const experimentSearchSpec: SearchSpec = {
  what: "experiments",
  table: "experiments",
  alias: "e",
  idColumn: "experiment_id",
  idType: "bigint",
  lifecycleColumn: "lifecycle_stage",
  keyed: {
    tag: { prefixes: ["tag", "tags"], table: "experiment_tags", ownerColumn: "experiment_id", type: "string" },
  },
  attributes: {
    name: { column: "name", type: "string", sqlType: "text", nullable: false, aliases: [] },
    creation_time: { column: "creation_time", type: "integer", sqlType: "bigint", nullable: false, aliases: [] },
    last_update_time: {
      column: "last_update_time",
      type: "integer",
      sqlType: "bigint",
      nullable: false,
      aliases: [],
    },
    experiment_id: { column: "experiment_id", type: "integer", sqlType: "bigint", nullable: false, aliases: [] },
  },
  attributePrefixes: ["attr", "attribute", "attributes"],
};
