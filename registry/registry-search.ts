/**
 * What the registry's two searches (registered models, model versions) share: their catalogued
 * errors (INVALID_ARGUMENT naming `filter` or `order_by`, as before the query engine was shared),
 * their order_by limit, and how a page of rows is read through storage/query.
 */
import { commonErrors } from "../core/errors/common-errors.js";
import { type Page, runKeysetSearch } from "../storage/query/keyset-search.js";
import type { SearchSpec } from "../storage/query/search-spec.js";
import type { SqlQueryable } from "../storage/sql/sql-client.js";
import type { SearchQuery } from "./registry-store.js";

/** Most order_by clauses of the registry's searches (the unique order is added after them). */
const maxRegistryOrderByClauses = 3;

/** The registry's filter errors: INVALID_ARGUMENT naming `filter` and the 1-based position. */
function invalidRegistryFilter(position: number, reason: string): Error {
  return commonErrors.invalidArgument("filter", `at position ${position}: ${reason}`);
}

/** The registry's order_by errors: INVALID_ARGUMENT naming `order_by` and the clause. */
function invalidRegistryOrderBy(clause: string, reason: string): Error {
  return commonErrors.invalidArgument("order_by", `"${clause}": ${reason}`);
}

/**
 * A search spec of the registry from what differs between its searches: no `attributes.`
 * prefix, the registry's errors and order_by limit.
 */
export function registrySearchSpec(
  spec: Pick<SearchSpec, "what" | "from" | "select" | "uniqueOrder" | "keyed" | "attributes">,
): SearchSpec {
  return {
    ...spec,
    attributePrefixes: [],
    maxOrderByClauses: maxRegistryOrderByClauses,
    invalidFilter: invalidRegistryFilter,
    invalidOrderBy: invalidRegistryOrderBy,
  };
}

/**
 * One page of a registry search (page size already validated): the rows the spec selects, in
 * order (default: by name), and the token of the next page.
 */
export async function searchRegistryRows<Row extends object>(
  db: SqlQueryable,
  spec: SearchSpec,
  query: SearchQuery,
): Promise<Page<Row>> {
  return runKeysetSearch<Row>(db, {
    spec,
    filter: query.filter,
    orderBy: query.orderBy,
    defaultOrderBy: "name ASC",
    pageToken: query.pageToken,
    maxResults: query.maxResults,
  });
}
