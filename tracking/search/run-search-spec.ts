import type { SearchSpec } from "./search-spec.js";

/** The statuses a run can have, as stored (`runs.status`). */
export const runStatuses = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"] as const;

/**
 * What SearchRuns filters and orders on (storage/sql/migrations/0001_tracking.sql):
 * `metrics.<key>` (latest value, a number), `params.<key>` and `tags.<key>` (strings), and the
 * attributes run_name, status, start_time, end_time (ms) and run_id, also written
 * `attributes.<name>`. MLflow's spellings are accepted: `metric.`, `param.`/`parameters.`, `tag.`,
 * `attribute.`/`attr.`/`run.`, `` `run name` ``, `created` for start_time.
 */
export const runSearchSpec: SearchSpec = {
  what: "runs",
  table: "runs",
  alias: "r",
  idColumn: "run_id",
  idType: "text",
  lifecycleColumn: "lifecycle_stage",
  keyed: {
    metric: { prefixes: ["metric", "metrics"], table: "latest_metrics", ownerColumn: "run_id", type: "float" },
    param: {
      prefixes: ["param", "parameter", "parameters", "params"],
      table: "params",
      ownerColumn: "run_id",
      type: "string",
    },
    tag: { prefixes: ["tag", "tags"], table: "run_tags", ownerColumn: "run_id", type: "string" },
  },
  attributes: {
    run_name: { column: "run_name", type: "string", sqlType: "text", nullable: false, aliases: ["run name"] },
    status: {
      column: "status",
      type: "string",
      sqlType: "text",
      nullable: false,
      aliases: [],
      allowedValues: runStatuses,
    },
    start_time: { column: "start_time", type: "integer", sqlType: "bigint", nullable: false, aliases: ["created"] },
    end_time: { column: "end_time", type: "integer", sqlType: "bigint", nullable: true, aliases: [] },
    run_id: { column: "run_id", type: "string", sqlType: "text", nullable: false, aliases: [] },
  },
  attributePrefixes: ["attr", "attribute", "run", "attributes"],
};
