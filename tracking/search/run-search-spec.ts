import { trackingErrors } from "../../core/errors/tracking-errors.js";
import { plainAttribute, type SearchSpec } from "../../storage/query/search-spec.js";
import { runStatuses } from "../sql-run-rows.js";

/** Most order_by clauses of SearchRuns and SearchExperiments (the id is always added as the final tie-breaker). */
export const maxOrderByClauses = 3;

/**
 * What SearchRuns filters and orders on (storage/sql/migrations/0001_tracking.sql):
 * `metrics.<key>` (latest value, a number), `params.<key>` and `tags.<key>` (strings), and the
 * attributes run_name, status, start_time, end_time (ms) and run_id, also written
 * `attributes.<name>`. MLflow's spellings are accepted: `metric.`, `param.`/`parameters.`, `tag.`,
 * `attribute.`/`attr.`/`run.`, `` `run name` ``, `created` for start_time. Errors are
 * TRACKING_INVALID_FILTER and TRACKING_INVALID_ORDER_BY.
 */
export const runSearchSpec: SearchSpec = {
  what: "runs",
  from: "runs r",
  select: { id: "r.run_id" },
  uniqueOrder: [{ expr: "r.run_id", type: "text" }],
  lifecycleColumn: "r.lifecycle_stage",
  keyed: {
    metric: { prefixes: ["metric", "metrics"], table: "latest_metrics", owner: { run_id: "r.run_id" }, type: "float" },
    param: {
      prefixes: ["param", "parameter", "parameters", "params"],
      table: "params",
      owner: { run_id: "r.run_id" },
      type: "string",
    },
    tag: { prefixes: ["tag", "tags"], table: "run_tags", owner: { run_id: "r.run_id" }, type: "string" },
  },
  attributes: {
    run_name: { ...plainAttribute("r.run_name", "string"), aliases: ["run name"] },
    status: { ...plainAttribute("r.status", "string"), allowedValues: runStatuses },
    start_time: { ...plainAttribute("r.start_time", "integer"), aliases: ["created"] },
    end_time: { ...plainAttribute("r.end_time", "integer"), nullable: true },
    run_id: plainAttribute("r.run_id", "string"),
  },
  attributePrefixes: ["attr", "attribute", "run", "attributes"],
  maxOrderByClauses,
  invalidFilter: (position, reason) => trackingErrors.invalidFilter(position, reason),
  invalidOrderBy: (clause, reason) => trackingErrors.invalidOrderBy(clause, reason),
};
