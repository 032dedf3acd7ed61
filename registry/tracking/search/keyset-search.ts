import type { SqlQueryable } from "../../store/sql-client.js";
import type { FilterExpr } from "./filter-ast.js";
import { formatOrderKey, type OrderKey } from "./order-by.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import type { SearchSpec } from "./search-spec.js";
import {
  buildSearchSql,
  type LifecycleView,
  type SearchSqlInput,
  type SortColumn,
  sortColumnTypes,
  sortValueText,
  tierCount,
} from "./search-sql.js";

/** A validated search, ready to run: what run and experiment search share. */
export interface KeysetSearch {
  readonly spec: SearchSpec;
  readonly scope?: SearchSqlInput["scope"];
  readonly view: LifecycleView;
  /** The filter text as given (part of the page-token hash) and its parsed tree. */
  readonly filterText: string;
  readonly filter: FilterExpr | undefined;
  /** The order, with the default already applied. */
  readonly order: readonly OrderKey[];
  readonly pageToken: string;
  /** Page size, already validated. */
  readonly maxResults: number;
}

/** One page of ids, in order, and the token of the next page ("" on the last page). */
export interface IdPage {
  readonly ids: string[];
  readonly nextPageToken: string;
}

/**
 * Runs one page of a search: decodes the page token (rejecting one issued for another query),
 * fetches maxResults + 1 rows to learn whether a next page exists, and encodes the last row's sort
 * values as the next token. Because the order is total (the id breaks ties) and pages resume
 * strictly after the last row, rows inserted between page reads never make a pre-existing row
 * appear twice or be skipped. One statement; when the first order key is a metric, param or tag
 * the filter does not constrain, one per tier of it (values, NaN, missing) until the page is full
 * (see SearchSqlInput.tier).
 */
export async function runKeysetSearch(db: SqlQueryable, search: KeysetSearch): Promise<IdPage> {
  const queryKey = JSON.stringify({
    what: search.spec.what,
    scope: search.scope === undefined ? null : [...new Set(search.scope.values)].sort(),
    view: search.view,
    filter: search.filterText,
    order: search.order.map(formatOrderKey),
  });
  const after =
    search.pageToken === ""
      ? undefined
      : decodePageToken(search.pageToken, queryKey, sortColumnTypes(search.spec, search.order, search.filter));
  const limit = search.maxResults + 1;
  const tiers = tierCount(search.spec, search.order, search.filter);
  let columns: readonly SortColumn[] = [];
  const rows: Record<string, unknown>[] = [];
  if (tiers === 0) {
    const built = buildSearchSql({ ...base(search), after, limit });
    columns = built.columns;
    rows.push(...(await db.query<Record<string, unknown>>(built.sql, built.params)).rows);
  } else {
    // Tier by tier from the token's (its first value is the rank), until the page is full.
    const from = after === undefined ? 0 : Math.max(0, Number(after[0]));
    for (let tier = from; tier < tiers && rows.length < limit; tier++) {
      const built = buildSearchSql({
        ...base(search),
        after: tier === from ? after : undefined,
        limit: limit - rows.length,
        tier,
      });
      columns = built.columns;
      rows.push(...(await db.query<Record<string, unknown>>(built.sql, built.params)).rows);
    }
  }
  const page = rows.slice(0, search.maxResults);
  const ids = page.map((row) => String(row.id));
  const last = page.at(-1);
  if (rows.length <= search.maxResults || last === undefined) return { ids, nextPageToken: "" };
  const values = columns.map((c, i) => sortValueText(i === columns.length - 1 ? last.id : last[`k${i}`], c.type));
  return { ids, nextPageToken: encodePageToken(queryKey, values) };
}

function base(search: KeysetSearch): Omit<SearchSqlInput, "after" | "limit"> {
  return {
    spec: search.spec,
    ...(search.scope === undefined ? {} : { scope: search.scope }),
    view: search.view,
    filter: search.filter,
    order: search.order,
  };
}
