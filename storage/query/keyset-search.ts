import type { SqlQueryable } from "../sql/sql-client.js";
import type { FilterExpr } from "./filter-ast.js";
import { parseFilter } from "./filter-parser.js";
import { formatOrderKey, type OrderKey, parseOrderBy } from "./order-by.js";
import type { SortColumn } from "./order-plan.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import type { SearchSpec } from "./search-spec.js";
import {
  buildSearchSql,
  type LifecycleView,
  planSearchOrder,
  type SearchSqlInput,
  sortValueText,
} from "./search-sql.js";

/**
 * One search of an entity: page size and view already validated by the caller, filter and
 * order_by still text (parsed here, against the spec).
 */
export interface KeysetSearch {
  readonly spec: SearchSpec;
  readonly scope?: SearchSqlInput["scope"];
  /** Default "all". */
  readonly view?: LifecycleView;
  /** The filter text as given (part of the page-token hash). */
  readonly filter: string;
  /** The order_by clauses as given. */
  readonly orderBy: readonly string[];
  /** The order when order_by is empty, one clause such as `start_time DESC`. */
  readonly defaultOrderBy: string;
  readonly pageToken: string;
  /** Page size, already validated. */
  readonly maxResults: number;
  /** Aborted when the caller goes away: the running statement is canceled (CANCELED). */
  readonly signal?: AbortSignal;
}

/** A page of results and the keyset token of the next page ("" on the last page). */
export interface Page<T> {
  readonly items: T[];
  readonly nextPageToken: string;
}

/** A search with its filter and order parsed, the default order applied. */
interface ParsedSearch {
  readonly spec: SearchSpec;
  readonly scope: SearchSqlInput["scope"];
  readonly view: LifecycleView | undefined;
  readonly filter: FilterExpr | undefined;
  readonly order: readonly OrderKey[];
}

/**
 * Runs one page of a search, returning rows of the spec's select columns as the driver returns
 * them (BIGINT as decimal strings): parses the filter and order_by (the spec's catalogued errors),
 * decodes the page token (INVALID_PAGE_TOKEN for one issued for another query), fetches
 * maxResults + 1 rows to learn whether a next page exists, and encodes the last row's sort
 * values as the next token. Because the order is total (the spec's unique order breaks ties) and
 * pages resume strictly after the last row, rows inserted between page reads never make a
 * pre-existing row appear twice or be skipped. One statement; when the first order key is a keyed
 * value the filter does not constrain, one per tier of it (values, NaN, missing) until the page is
 * full (see SearchSqlInput.tier).
 */
export async function runKeysetSearch<Row extends object = Record<string, unknown>>(
  db: SqlQueryable,
  request: KeysetSearch,
): Promise<Page<Row>> {
  const { spec } = request;
  const order = parseOrderBy(request.orderBy, spec);
  const search: ParsedSearch = {
    spec,
    scope: request.scope,
    view: request.view,
    filter: parseFilter(request.filter, spec),
    order: order.length > 0 ? order : parseOrderBy([request.defaultOrderBy], spec),
  };
  const queryKey = JSON.stringify({
    what: spec.what,
    scope: search.scope === undefined ? null : [...new Set(search.scope.values)].sort(),
    view: search.view ?? "all",
    filter: request.filter,
    order: search.order.map(formatOrderKey),
  });
  const plan = planSearchOrder(spec, search.order, search.filter);
  const after =
    request.pageToken === ""
      ? undefined
      : decodePageToken(
          request.pageToken,
          queryKey,
          plan.columns.map((c) => c.type),
        );
  const limit = request.maxResults + 1;
  const statement = request.signal === undefined ? undefined : { signal: request.signal };
  let columns: readonly SortColumn[] = [];
  const rows: Record<string, unknown>[] = [];
  if (plan.tiers === 0) {
    const built = buildSearchSql({ ...base(search), after, limit });
    columns = built.columns;
    rows.push(...(await db.query<Record<string, unknown>>(built.sql, built.params, statement)).rows);
  } else {
    // Tier by tier from the token's (its first value is the rank), until the page is full.
    const from = after === undefined ? 0 : Math.max(0, Number(after[0]));
    for (let tier = from; tier < plan.tiers && rows.length < limit; tier++) {
      const built = buildSearchSql({
        ...base(search),
        after: tier === from ? after : undefined,
        limit: limit - rows.length,
        tier,
      });
      columns = built.columns;
      rows.push(...(await db.query<Record<string, unknown>>(built.sql, built.params, statement)).rows);
    }
  }
  const page = rows.slice(0, request.maxResults);
  // The row type is the caller's word for the select columns, as with SqlQueryable.query.
  const selected = page.map(
    (row) => Object.fromEntries(Object.keys(spec.select).map((name) => [name, row[name]])) as Row,
  );
  const last = page.at(-1);
  if (rows.length <= request.maxResults || last === undefined) return { items: selected, nextPageToken: "" };
  const values = columns.map((c, i) => sortValueText(last[`k${i}`], c.type));
  return { items: selected, nextPageToken: encodePageToken(queryKey, values) };
}

function base(search: ParsedSearch): Omit<SearchSqlInput, "after" | "limit"> {
  return {
    spec: search.spec,
    ...(search.scope === undefined ? {} : { scope: search.scope }),
    ...(search.view === undefined ? {} : { view: search.view }),
    filter: search.filter,
    order: search.order,
  };
}

/**
 * The objects loaded for a page of ids, in the page's order, skipping any removed between the
 * search and the load (a search returns ids; the store loads what they name).
 */
export function inPageOrder<T>(ids: readonly string[], byId: ReadonlyMap<string, T>): T[] {
  const items: T[] = [];
  for (const id of ids) {
    const item = byId.get(id);
    if (item !== undefined) items.push(item);
  }
  return items;
}
