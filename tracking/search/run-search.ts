import { commonErrors } from "../../core/errors/common-errors.js";
import { validateExperimentId } from "../../core/validation/ids.js";
import { validatePageSize } from "../../core/validation/numbers.js";
import { runKeysetSearch } from "../../storage/query/keyset-search.js";
import type { SqlQueryable } from "../../storage/sql/sql-client.js";
import { pageSizes } from "../page-sizes.js";
import type { SearchRunsQuery } from "../tracking-store.js";
import { runSearchSpec } from "./run-search-spec.js";
import { lifecycleView } from "./view-type.js";

/** Most experiments one SearchRuns may cover. */
const maxSearchExperiments = 100;

/**
 * Finds one page of run ids for SearchRuns: runs of the given experiments, in the view type,
 * matching the filter (see parseFilter), ordered by up to 3 keys (default start_time DESC) then
 * run_id, with keyset page tokens. One statement; the caller loads the runs it returns.
 *
 * Errors: INVALID_ARGUMENT for experiment_ids (none, more than 100, not an int64 decimal), max_results
 * (beyond 1..50,000; 0 gives 1000) or run_view_type; TRACKING_INVALID_FILTER; TRACKING_INVALID_ORDER_BY;
 * INVALID_PAGE_TOKEN.
 */
export async function searchRunIds(
  db: SqlQueryable,
  query: SearchRunsQuery,
): Promise<{ runIds: string[]; nextPageToken: string }> {
  const experimentIds = [...new Set(query.experimentIds)];
  if (experimentIds.length === 0) {
    throw commonErrors.invalidArgument("experiment_ids", "give at least one experiment id");
  }
  if (experimentIds.length > maxSearchExperiments) {
    throw commonErrors.invalidArgument(
      "experiment_ids",
      `at most ${maxSearchExperiments} experiments per search, got ${experimentIds.length}`,
    );
  }
  for (const [i, id] of query.experimentIds.entries()) validateExperimentId(id, `experiment_ids[${i}]`);
  const maxResults = validatePageSize(query.maxResults, pageSizes.searchRuns);
  const view = lifecycleView(query.viewType, "run_view_type");
  const page = await runKeysetSearch(db, {
    spec: runSearchSpec,
    scope: { expr: "r.experiment_id", type: "bigint", values: experimentIds },
    view,
    filter: query.filter,
    orderBy: query.orderBy,
    defaultOrderBy: "start_time DESC",
    pageToken: query.pageToken,
    maxResults,
    ...(query.signal === undefined ? {} : { signal: query.signal }),
  });
  return { runIds: page.items.map((row) => String(row.id)), nextPageToken: page.nextPageToken };
}
