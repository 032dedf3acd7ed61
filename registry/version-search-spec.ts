import type { SearchSpec } from "../storage/query/search-spec.js";
import { invalidRegistryFilter, invalidRegistryOrderBy, maxRegistryOrderByClauses } from "./registry-search.js";
import { versionFrom, versionRowColumns } from "./sql-registry-rows.js";
import { stageNames } from "./stage-names.js";

/**
 * What SearchModelVersions filters and orders on: `name` (the model's), `version`, `run_id`,
 * `source`, `current_stage` (one of the four stages, any case), `creation_time`,
 * `last_updated_time` and `tags.<key>` (the version's tags), in the search language of runs.
 * Default order: name, then version newest first, which also break ties.
 */
export const versionSearchSpec: SearchSpec = {
  what: "model versions",
  from: versionFrom,
  select: versionRowColumns,
  uniqueOrder: [
    { expr: "m.name", type: "text" },
    { expr: "v.version", type: "bigint", descending: true },
  ],
  keyed: {
    tag: {
      prefixes: ["tag", "tags"],
      table: "model_version_tags",
      owner: { model_id: "v.model_id", version: "v.version" },
      type: "string",
    },
  },
  attributes: {
    name: { expr: "m.name", type: "string", sqlType: "text", nullable: false, aliases: [] },
    version: { expr: "v.version", type: "integer", sqlType: "bigint", nullable: false, aliases: [] },
    run_id: { expr: "v.run_id", type: "string", sqlType: "text", nullable: false, aliases: [] },
    source: { expr: "v.source", type: "string", sqlType: "text", nullable: false, aliases: [] },
    current_stage: {
      expr: "v.current_stage",
      type: "string",
      sqlType: "text",
      nullable: false,
      aliases: [],
      allowedValues: stageNames,
    },
    creation_time: { expr: "v.creation_time", type: "integer", sqlType: "bigint", nullable: false, aliases: [] },
    last_updated_time: {
      expr: "v.last_updated_time",
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
