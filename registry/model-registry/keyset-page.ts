/**
 * Keyset pagination of the registry's searches and listings: an order over columns that ends with
 * unique tie-breakers, and page tokens that carry the last row's sort values. A page resumes
 * strictly after that row, so rows inserted or deleted between reads never make a row appear twice
 * or be skipped (unlike offsets). A token is only valid for the query that issued it.
 */
import { createHash } from "node:crypto";
import { commonErrors } from "../../core/errors/common-errors.js";

/** A column a search may order by. */
export interface SortField {
  /** SQL expression, e.g. `m.creation_time`. */
  readonly sql: string;
  readonly type: "text" | "bigint";
}

/** One column of a resolved order. */
export interface OrderColumn extends SortField {
  readonly desc: boolean;
}

/**
 * Parses `order_by` (at most one clause `<field> [ASC|DESC]`) against `fields`, then appends the
 * tie-breakers not already ordered on. Throws INVALID_ARGUMENT (field "order_by").
 */
export function resolveOrder(
  orderBy: readonly string[],
  fields: Readonly<Record<string, SortField>>,
  fallback: readonly OrderColumn[],
  tieBreakers: readonly OrderColumn[],
): OrderColumn[] {
  if (orderBy.length > 1) throw commonErrors.invalidArgument("order_by", "at most one clause is supported");
  let columns: OrderColumn[] = [...fallback];
  const clause = orderBy[0];
  if (clause !== undefined) {
    const m = /^\s*([A-Za-z_]+)(?:\s+(ASC|DESC))?\s*$/i.exec(clause);
    const field = m?.[1] === undefined ? undefined : fields[m[1].toLowerCase()];
    if (m === null || field === undefined) {
      throw commonErrors.invalidArgument(
        "order_by",
        `"${clause}" is not "<field> [ASC|DESC]" with a field among ${Object.keys(fields).join(", ")}`,
      );
    }
    columns = [{ ...field, desc: m[2]?.toUpperCase() === "DESC" }];
  }
  for (const t of tieBreakers) {
    if (!columns.some((c) => c.sql === t.sql)) columns.push(t);
  }
  return columns;
}

/** `ORDER BY` text of an order. */
export function orderBySql(columns: readonly OrderColumn[]): string {
  return columns.map((c) => `${c.sql} ${c.desc ? "DESC" : "ASC"}`).join(", ");
}

/**
 * The condition "row comes after `values` in `columns` order", values appended to `params`:
 * (c1 > v1) OR (c1 = v1 AND c2 > v2) OR ..., with < for descending columns.
 */
export function afterSql(columns: readonly OrderColumn[], values: readonly string[], params: unknown[]): string {
  const refs = values.map((v, i) => {
    params.push(v);
    return `$${params.length}::${columns[i]?.type ?? "text"}`;
  });
  const branches = columns.map((c, k) => {
    const equal = columns.slice(0, k).map((p, j) => `${p.sql} = ${refs[j]}`);
    return `(${[...equal, `${c.sql} ${c.desc ? "<" : ">"} ${refs[k]}`].join(" AND ")})`;
  });
  return `(${branches.join(" OR ")})`;
}

/** Hash of what identifies a query, so a token cannot be replayed against another one. */
function queryHash(queryKey: string): string {
  return createHash("sha256").update(queryKey).digest("hex").slice(0, 16);
}

/** The token of the page after the row with these sort values. */
export function encodePageToken(queryKey: string, values: readonly string[]): string {
  return Buffer.from(JSON.stringify({ q: queryHash(queryKey), v: values })).toString("base64url");
}

/**
 * The sort values in a token, one per column; throws INVALID_PAGE_TOKEN when it is malformed, was
 * issued for another query, or holds values that do not fit the columns.
 */
export function decodePageToken(token: string, queryKey: string, columns: readonly OrderColumn[]): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw commonErrors.invalidPageToken();
  }
  if (typeof parsed !== "object" || parsed === null) throw commonErrors.invalidPageToken();
  const { q, v } = parsed as { q?: unknown; v?: unknown };
  if (q !== queryHash(queryKey) || !Array.isArray(v) || v.length !== columns.length)
    throw commonErrors.invalidPageToken();
  const values: string[] = [];
  for (const [i, x] of v.entries()) {
    if (typeof x !== "string") throw commonErrors.invalidPageToken();
    if (columns[i]?.type === "bigint" && !/^-?\d{1,19}$/.test(x)) throw commonErrors.invalidPageToken();
    values.push(x);
  }
  return values;
}
