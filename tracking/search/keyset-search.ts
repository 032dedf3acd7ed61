import { decodePageToken, encodePageToken } from "../../storage/sql/page-token.js";
import type { SqlQueryable } from "../../storage/sql/sql-client.js";
import type { FilterExpr } from "./filter-ast.js";
import { parseFilter } from "./filter-parser.js";
import { formatOrderKey, type OrderKey, parseOrderBy } from "./order-by.js";
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

/**
 * A search as run and experiment search share it: page size and view already validated, filter
 * and order_by still text (parsed here, against the spec).
 */
export interface KeysetSearch {
  readonly spec: SearchSpec;
  readonly scope?: SearchSqlInput["scope"];
  readonly view: LifecycleView;
  /** The filter text as given (part of the page-token hash). */
  readonly filter: string;
  /** The order_by clauses as given. */
  readonly orderBy: readonly string[];
  /** The order when order_by is empty, one clause such as `start_time DESC`. */
  readonly defaultOrderBy: string;
  readonly pageToken: string;
  /** Page size, already validated. */
  readonly maxResults: number;
}

/** A search with its filter and order parsed, the default order applied. */
interface ParsedSearch extends Omit<KeysetSearch, "filter" | "orderBy" | "defaultOrderBy"> {
  readonly filterText: string;
  readonly filter: FilterExpr | undefined;
  readonly order: readonly OrderKey[];
}

/** One page of ids, in order, and the token of the next page ("" on the last page). */
export interface IdPage {
  readonly ids: string[];
  readonly nextPageToken: string;
}

/**
 * Runs one page of a search: parses the filter (TRACKING_INVALID_FILTER) and order_by
 * (TRACKING_INVALID_ORDER_BY), decodes the page token (rejecting one issued for another query),
 * fetches maxResults + 1 rows to learn whether a next page exists, and encodes the last row's sort
 * values as the next token. Because the order is total (the id breaks ties) and pages resume
 * strictly after the last row, rows inserted between page reads never make a pre-existing row
 * appear twice or be skipped. One statement; when the first order key is a metric, param or tag
 * the filter does not constrain, one per tier of it (values, NaN, missing) until the page is full
 * (see SearchSqlInput.tier).
 */
export async function runKeysetSearch(db: SqlQueryable, request: KeysetSearch): Promise<IdPage> {
  const { filter: filterText, orderBy, defaultOrderBy, ...rest } = request;
  const filter = parseFilter(filterText, request.spec);
  const order = parseOrderBy(orderBy, request.spec);
  const search: ParsedSearch = {
    ...rest,
    filterText,
    filter,
    order: order.length > 0 ? order : parseOrderBy([defaultOrderBy], request.spec),
  };
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

function base(search: ParsedSearch): Omit<SearchSqlInput, "after" | "limit"> {
  return {
    spec: search.spec,
    ...(search.scope === undefined ? {} : { scope: search.scope }),
    view: search.view,
    filter: search.filter,
    order: search.order,
  };
}
