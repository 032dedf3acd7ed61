/**
 * The runs table's view as the URL states it (`/runs?e=1&filter=...&sort=...&dir=...&size=...`)
 * and the queries it makes. Shared by the runs page and the entry point, which starts the first
 * page's SearchRuns before React has rendered anything (a cold load saves the first render's time).
 */
import type { Client } from "@connectrpc/connect";
import type { TrackingService } from "../../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { attributeSorts, orderByClause, parseColumnId } from "../lib/run-columns.js";

/** Page sizes offered; 50 by default. */
export const pageSizes = [25, 50, 100, 250] as const;

/** What the URL of the runs page says. */
export interface RunsView {
  readonly experimentIds: readonly string[];
  readonly filter: string;
  /** A column id (`metrics.loss`) or an attribute (`start_time`). */
  readonly sort: string;
  readonly descending: boolean;
  readonly pageSize: number;
  /** Chosen columns (`metrics.loss,params.lr`); null before the user chose. */
  readonly columns: string | null;
}

/** Reads the view from the query string of `/runs`. */
export function readRunsView(params: URLSearchParams): RunsView {
  return {
    experimentIds: params.getAll("e"),
    filter: params.get("filter") ?? "",
    sort: params.get("sort") ?? attributeSorts.started,
    descending: (params.get("dir") ?? "desc") === "desc",
    pageSize: pageSizes.find((s) => String(s) === params.get("size")) ?? 50,
    columns: params.get("cols"),
  };
}

/** The order_by clause of the view. */
export function viewOrderBy(view: RunsView): string {
  return orderByClause(parseColumnId(view.sort) ?? view.sort, view.descending);
}

/** Identifies the view's query (not its page): paging restarts when it changes. */
export function viewKey(view: RunsView): string {
  return JSON.stringify([view.experimentIds, view.filter, viewOrderBy(view), view.pageSize]);
}

/** The SearchRuns query of one page of the view (`pageToken` "" for the first). */
export function runsPageQuery(tracking: Client<typeof TrackingService>, view: RunsView, pageToken: string) {
  return {
    queryKey: ["runs", viewKey(view), pageToken],
    queryFn: ({ signal }: { signal: AbortSignal }) =>
      tracking.searchRuns(
        {
          experimentIds: [...view.experimentIds],
          filter: view.filter,
          orderBy: [viewOrderBy(view)],
          maxResults: view.pageSize,
          pageToken,
        },
        { signal },
      ),
  };
}

/** The GetExperiment query of an experiment (names change rarely: fresh for a minute). */
export function experimentQuery(tracking: Client<typeof TrackingService>, experimentId: string) {
  return {
    queryKey: ["experiment", experimentId],
    queryFn: ({ signal }: { signal: AbortSignal }) => tracking.getExperiment({ experimentId }, { signal }),
    staleTime: 60_000,
  };
}
