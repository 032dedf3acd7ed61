import { validatePageSize } from "../../core/validation/numbers.js";
import { runKeysetSearch } from "../../storage/query/keyset-search.js";
import type { SqlQueryable } from "../../storage/sql/sql-client.js";
import { pageSizes } from "../page-sizes.js";
import type { SearchExperimentsQuery } from "../tracking-store.js";
import { experimentSearchSpec } from "./experiment-search-spec.js";
import { lifecycleView } from "./view-type.js";

/**
 * Finds one page of experiment ids for SearchExperiments: experiments in the view type matching
 * the filter over `name`, `tags.<key>`, `creation_time`, `last_update_time` and `experiment_id`,
 * ordered by up to 3 keys (default creation_time DESC) then experiment_id, with keyset page tokens.
 *
 * Errors: INVALID_ARGUMENT for max_results (beyond 1..1000; 0 gives 100) or view_type;
 * TRACKING_INVALID_FILTER; TRACKING_INVALID_ORDER_BY; INVALID_PAGE_TOKEN.
 */
export async function searchExperimentIds(
  db: SqlQueryable,
  query: SearchExperimentsQuery,
): Promise<{ experimentIds: string[]; nextPageToken: string }> {
  const maxResults = validatePageSize(query.maxResults, pageSizes.searchExperiments);
  const view = lifecycleView(query.viewType, "view_type");
  const page = await runKeysetSearch(db, {
    spec: experimentSearchSpec,
    view,
    filter: query.filter,
    orderBy: query.orderBy,
    defaultOrderBy: "creation_time DESC",
    pageToken: query.pageToken,
    maxResults,
  });
  return { experimentIds: page.items.map((row) => String(row.id)), nextPageToken: page.nextPageToken };
}
