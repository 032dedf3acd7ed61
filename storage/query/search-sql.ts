import type { FilterExpr } from "./filter-ast.js";
import { FilterCompiler } from "./filter-sql.js";
import { keysetCondition } from "./keyset-condition.js";
import type { OrderKey } from "./order-by.js";
import { type OrderPlan, planOrder, type SortColumn } from "./order-plan.js";
import type { SortColumnType } from "./page-token.js";
import type { SearchSpec } from "./search-spec.js";
import { SqlParams } from "./sql-params.js";

/** Which rows of a spec with a lifecycle column are searched (from a request's view type). */
export type LifecycleView = "active" | "deleted" | "all";

/** Everything {@link buildSearchSql} needs. */
export interface SearchSqlInput {
  readonly spec: SearchSpec;
  /** Restricts the rows to a list of values of one expression (the experiment ids of a run search). */
  readonly scope?: { readonly expr: string; readonly type: "bigint" | "text"; readonly values: readonly string[] };
  /** Default "all"; "active" and "deleted" need a spec with a lifecycle column. */
  readonly view?: LifecycleView;
  readonly filter: FilterExpr | undefined;
  readonly order: readonly OrderKey[];
  /** Sort values of the last row of the previous page (one per sort column), as text. */
  readonly after: readonly string[] | undefined;
  /** Rows to fetch (a page plus one, to know whether another page follows). */
  readonly limit: number;
  /**
   * Only rows of this rank of the first order key (see {@link OrderPlan.tiers}): 0 numbers (or
   * present values), then NaN, then missing. A first key that may be missing or NaN sorts through
   * a CASE rank no index can serve, so every row in scope would be joined and sorted; one tier at
   * a time sorts on the plain value, which the (key, value) index walks in order and stops at the
   * limit. Sort columns and page tokens are the same with or without tiers.
   */
  readonly tier?: number;
}

/** A statement and its positional parameters: user values only ever travel as parameters. */
export interface SearchSql {
  readonly sql: string;
  readonly params: readonly unknown[];
  /**
   * The order's columns; the statement returns them as text columns k0..kn-1 (see
   * {@link sortValueText} for the token form) after the spec's select columns.
   */
  readonly columns: readonly SortColumn[];
}

/** The order plan of a search without building its statement (token types, tier count). */
export function planSearchOrder(
  spec: SearchSpec,
  order: readonly OrderKey[],
  filter: FilterExpr | undefined,
): OrderPlan {
  const params = new SqlParams();
  const compiler = new FilterCompiler(spec, params);
  return planOrder(spec, order, filter, params, (e, v) => compiler.compileOn(e, v), undefined);
}

/**
 * Compiles a search into one parameterised statement: the rows in scope and view, the filter
 * (keyed fields as EXISTS sub-queries), the keyset condition of the page, the total order and
 * the limit. Table and column names come from the spec; every user value is a `$n`.
 */
export function buildSearchSql(input: SearchSqlInput): SearchSql {
  const { spec } = input;
  const params = new SqlParams();
  const compiler = new FilterCompiler(spec, params);
  const {
    columns,
    joins,
    rest,
    where: joinWhere,
  } = planOrder(spec, input.order, input.filter, params, (e, v) => compiler.compileOn(e, v), input.tier);

  const where: string[] = [];
  if (input.scope !== undefined) {
    const { expr, type, values } = input.scope;
    where.push(`${expr} IN (${values.map((v) => params.add(v, type)).join(", ")})`);
  }
  const view = input.view ?? "all";
  if (view !== "all") {
    if (spec.lifecycleColumn === undefined) throw new Error(`${spec.what} have no lifecycle to view ${view}`);
    where.push(`${spec.lifecycleColumn} = '${view === "active" ? "active" : "deleted"}'`);
  }
  if (rest !== undefined) where.push(compiler.compile(rest));
  where.push(...joinWhere);

  const selected = Object.entries(spec.select);
  const sortName = (i: number): string => `k${i}`;
  const inner = [
    `SELECT ${[
      ...selected.map(([name, expr]) => `${expr} AS ${name}`),
      ...columns.map((c, i) => `${c.expr} AS ${sortName(i)}`),
    ].join(", ")}`,
    `FROM ${spec.from}`,
    ...joins,
    where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`,
  ]
    .filter((line) => line !== "")
    .join("\n  ");

  const names = columns.map((_, i) => `s.${sortName(i)}`);
  const outer: string[] = [
    `SELECT ${[
      ...selected.map(([name]) => `s.${name}`),
      ...names.map((n, i) => `${textOf(n, columns[i]?.type)} AS ${sortName(i)}`),
    ].join(", ")}`,
    `FROM (\n  ${inner}\n) s`,
  ];
  if (input.after !== undefined) outer.push(`WHERE ${afterCondition(columns, names, input.after, params)}`);
  outer.push(`ORDER BY ${names.map((n, i) => `${n} ${columns[i]?.descending === true ? "DESC" : "ASC"}`).join(", ")}`);
  outer.push(`LIMIT ${params.add(String(input.limit), "bigint")}`);
  return { sql: outer.join("\n"), params: params.values, columns };
}

/**
 * A sort value as text for the page token. Doubles go out as the hex of their 8 bytes
 * (`float8send`), read back exactly by {@link sortValueText}: their text output depends on the
 * server's extra_float_digits, and a rounded value would make the keyset skip or repeat rows.
 */
function textOf(column: string, type: SortColumnType | undefined): string {
  return type === "float8" ? `encode(float8send(${column}), 'hex')` : `${column}::text`;
}

/**
 * The token form of a value the statement returned for a column of this type: doubles are
 * decoded from their hex bytes to the shortest decimal that parses back to the same double
 * (`NaN`, `Infinity` and `-Infinity` included); anything else is already text.
 */
export function sortValueText(value: unknown, type: SortColumnType): string {
  const text = String(value);
  if (type !== "float8") return text;
  if (!/^[0-9a-f]{16}$/.test(text)) throw new Error(`expected the 16 hex digits of a double, got "${text}"`);
  return String(Buffer.from(text, "hex").readDoubleBE(0));
}

/** Rows strictly after `after` in the order (see {@link keysetCondition}), on the outer names. */
function afterCondition(
  columns: readonly SortColumn[],
  names: readonly string[],
  after: readonly string[],
  params: SqlParams,
): string {
  const placeholders = columns.map((c, i) => params.add(after[i] ?? "", c.type));
  return keysetCondition(
    columns.map((c, i) => ({ expr: names[i] ?? "", descending: c.descending })),
    placeholders,
  );
}
