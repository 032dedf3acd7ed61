import type { SearchSpec } from "../storage/query/search-spec.js";
import { invalidRegistryFilter, invalidRegistryOrderBy, maxRegistryOrderByClauses } from "./model-search-spec.js";
import { stageNames } from "./stage-names.js";

/** Columns of a version row (`model_versions` with its model's name), by name. */
export const versionRowColumns = {
  model_id: "v.model_id",
  name: "m.name",
  version: "v.version",
  creation_time: "v.creation_time",
  last_updated_time: "v.last_updated_time",
  description: "v.description",
  current_stage: "v.current_stage",
  source: "v.source",
  run_id: "v.run_id",
  status: "v.status",
  status_message: "v.status_message",
  artifact_size: "v.artifact_size",
  artifact_sha256: "v.artifact_sha256",
  storage_key: "v.storage_key",
  storage_uri: "v.storage_uri",
  signature_json: "v.signature_json",
  created_by: "v.created_by",
} as const;

/** The rows a version is read from: versions with their model (for its name). */
export const versionFrom = "model_versions v JOIN registered_models m ON m.model_id = v.model_id";

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
