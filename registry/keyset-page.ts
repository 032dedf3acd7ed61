/**
 * Keyset pagination of the registry's searches and listings: an order over columns that ends with
 * unique tie-breakers, and the condition that resumes strictly after the last row of a page, whose
 * sort values travel in a page token (`storage/sql/page-token.ts`). Rows inserted or deleted
 * between reads never make a row appear twice or be skipped (unlike offsets).
 */
import { commonErrors } from "../core/errors/common-errors.js";
import { keysetCondition } from "../storage/sql/keyset-condition.js";

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
 * The condition "row comes after `values` in `columns` order" (see {@link keysetCondition}), values
 * appended to `params`.
 */
export function afterSql(columns: readonly OrderColumn[], values: readonly string[], params: unknown[]): string {
  const refs = values.map((v, i) => {
    params.push(v);
    return `$${params.length}::${columns[i]?.type ?? "text"}`;
  });
  return `(${keysetCondition(
    columns.map((c) => ({ expr: c.sql, descending: c.desc })),
    refs,
  )})`;
}
