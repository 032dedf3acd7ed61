import { plainAttribute, type SearchSpec } from "../storage/query/search-spec.js";
import { registrySearchSpec } from "./registry-search.js";
import { versionFrom, versionRowColumns } from "./sql-registry-rows.js";
import { stageNames } from "./stage-names.js";

/**
 * What SearchModelVersions filters and orders on: `name` (the model's), `version`, `run_id`,
 * `source`, `current_stage` (one of the four stages, any case), `creation_time`,
 * `last_updated_time` and `tags.<key>` (the version's tags), in the search language of runs.
 * Default order: name, then version newest first, which also break ties.
 */
export const versionSearchSpec: SearchSpec = registrySearchSpec({
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
    name: plainAttribute("m.name", "string"),
    version: plainAttribute("v.version", "integer"),
    run_id: plainAttribute("v.run_id", "string"),
    source: plainAttribute("v.source", "string"),
    current_stage: { ...plainAttribute("v.current_stage", "string"), allowedValues: stageNames },
    creation_time: plainAttribute("v.creation_time", "integer"),
    last_updated_time: plainAttribute("v.last_updated_time", "integer"),
  },
});
