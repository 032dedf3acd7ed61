import { keysetCondition } from "../../storage/sql/keyset-condition.js";
import type { SortColumnType } from "../../storage/sql/page-token.js";
import type { ComparisonOp, FilterComparison, FilterExpr, FilterIn, FilterValue } from "./filter-ast.js";
import type { OrderKey } from "./order-by.js";
import type { FieldType, ResolvedField, SearchSpec } from "./search-spec.js";

/**
 * One column of the total order of a search. Each order key becomes one or two columns: a rank
 * that puts missing values (and NaN metrics) last whatever the direction, then the value with
 * NULL and NaN replaced by a constant so every column is NOT NULL and compares with `=`, `<`, `>`.
 * The root id, ascending, is always the last column.
 */
export interface SortColumn {
  /** SQL expression over the root alias and the order joins; built only from the spec. */
  readonly expr: string;
  readonly type: SortColumnType;
  readonly descending: boolean;
}

/** How deleted rows are treated (from the request's view type). */
export type LifecycleView = "active" | "deleted" | "all";

/** Everything {@link buildSearchSql} needs. */
export interface SearchSqlInput {
  readonly spec: SearchSpec;
  /** Restricts the root rows to a list of values of one of its columns (experiment ids of a run search). */
  readonly scope?: { readonly column: string; readonly type: "bigint" | "text"; readonly values: readonly string[] };
  readonly view: LifecycleView;
  readonly filter: FilterExpr | undefined;
  readonly order: readonly OrderKey[];
  /** Sort values of the last row of the previous page (one per sort column, id last), as text. */
  readonly after: readonly string[] | undefined;
  /** Rows to fetch (a page plus one, to know whether another page follows). */
  readonly limit: number;
  /**
   * Only rows of this rank of the first order key (see {@link tierCount}): 0 numbers (or present
   * values), then NaN, then missing. A first key that may be missing or NaN sorts through a CASE
   * rank no index can serve, so the whole experiment would be joined and sorted; one tier at a
   * time sorts on the plain value, which the (key, value) index walks in order and stops at the
   * limit. Sort columns and page tokens are the same with or without tiers.
   */
  readonly tier?: number;
}

/** A statement and its positional parameters: user values only ever travel as parameters. */
export interface SearchSql {
  readonly sql: string;
  readonly params: readonly unknown[];
  /**
   * The order's columns, id last; the statement returns them as text columns k0..kn-1 and `id`
   * (see {@link sortValueText} for the token form).
   */
  readonly columns: readonly SortColumn[];
}

/** Collects positional parameters, returning the placeholder (`$3::float8`) of each value added. */
class Params {
  readonly values: unknown[] = [];

  add(value: string, type: SortColumnType): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}

/**
 * What a top-level AND conjunct of the filter guarantees about an ordered keyed field: that the
 * key is present ("present": IS NOT NULL, or any comparison on a string key) or present with a
 * number that is not NaN ("number": any comparison or IN on a metric, which NaN never matches).
 */
type Guarantee = "none" | "present" | "number";

/**
 * How the order is computed: its columns, the joins that bring ordered keyed values into the row,
 * and the filter split in two. Conjuncts of the filter on an ordered key are applied to that
 * key's join (made an inner join) instead of an EXISTS: the same rows, but the planner sees a
 * plain range on `o0.value` it can estimate and use an index for, and the rank columns that only
 * sort missing or NaN values last disappear when the conjuncts rule those out.
 */
interface OrderPlan {
  readonly columns: SortColumn[];
  readonly joins: string[];
  /** The conjuncts not moved into a join (undefined for none). */
  readonly rest: FilterExpr | undefined;
  /** Extra conditions on the joins (the "missing" tier's anti-join). */
  readonly where: string[];
  /** How many tiers the first key splits into (0: it does not; see {@link SearchSqlInput.tier}). */
  readonly tiers: number;
}

/** The top-level AND conjuncts of a filter (the filter itself when it is not an AND). */
function conjuncts(filter: FilterExpr | undefined): readonly FilterExpr[] {
  if (filter === undefined) return [];
  return filter.kind === "and" ? filter.operands : [filter];
}

/** True when `expr` tests the keyed field `entity`/`key` directly (not under an OR). */
function testsKey(expr: FilterExpr, entity: string, key: string): boolean {
  if (expr.kind !== "comparison" && expr.kind !== "in" && expr.kind !== "null-check") return false;
  if (expr.kind === "null-check" && !expr.negated) return false;
  return expr.field.kind === "keyed" && expr.field.entity === entity && expr.field.key === key;
}

/**
 * Plans the sort columns of an order (see {@link SortColumn}). Join aliases are o0, o1...; key
 * names are parameters. `compileOn` compiles a conjunct moved into a join against its value column.
 */
function planOrder(
  spec: SearchSpec,
  order: readonly OrderKey[],
  filter: FilterExpr | undefined,
  params: Params,
  compileOn: (expr: FilterExpr, value: string) => string,
  tier: number | undefined,
): OrderPlan {
  const a = spec.alias;
  const columns: SortColumn[] = [];
  const joins: string[] = [];
  const where: string[] = [];
  let tiers = 0;
  let rest = [...conjuncts(filter)];
  order.forEach((key, i) => {
    const f = key.field;
    let value: string;
    let type: FieldType;
    let sqlType: SortColumnType;
    let guarantee: Guarantee = "none";
    if (f.kind === "keyed") {
      const keyed = spec.keyed[f.entity];
      if (keyed === undefined) throw new Error(`no keyed entity ${f.entity} in the ${spec.what} spec`);
      const o = `o${i}`;
      value = `${o}.value`;
      type = keyed.type;
      sqlType = keyed.type === "string" ? "text" : keyed.type === "float" ? "float8" : "bigint";
      const moved = rest.filter((c) => testsKey(c, f.entity, f.key));
      rest = rest.filter((c) => !moved.includes(c));
      const on = [`${o}.${keyed.ownerColumn} = ${a}.${spec.idColumn}`, `${o}.key = ${params.add(f.key, "text")}`];
      for (const c of moved) {
        if (c.kind !== "null-check") on.push(compileOn(c, value));
        const strong = c.kind !== "null-check" && keyed.type === "float";
        guarantee = strong ? "number" : guarantee === "number" ? "number" : "present";
      }
      if (i === 0 && moved.length === 0) {
        tiers = keyed.type === "float" ? 3 : 2;
        if (tier !== undefined) {
          // One tier of the first key's rank: numbers (or present strings), NaN, missing.
          const missing = tier === tiers - 1;
          if (!missing && keyed.type === "float") on.push(`${o}.value ${tier === 0 ? "<>" : "="} 'NaN'::float8`);
          if (missing) where.push(`${o}.${keyed.ownerColumn} IS NULL`);
          joins.push(`${missing ? "LEFT JOIN" : "JOIN"} ${keyed.table} ${o} ON ${on.join(" AND ")}`);
          columns.push({ expr: `${tier}`, type: "int", descending: false });
          const constant = sqlType === "text" ? "''::text" : `0::${sqlType}`;
          columns.push({ expr: tier === 0 ? value : constant, type: sqlType, descending: key.descending });
          return;
        }
      }
      joins.push(`${moved.length > 0 ? "JOIN" : "LEFT JOIN"} ${keyed.table} ${o} ON ${on.join(" AND ")}`);
    } else {
      const attr = spec.attributes[f.name];
      if (attr === undefined) throw new Error(`no attribute ${f.name} in the ${spec.what} spec`);
      value = `${a}.${attr.column}`;
      type = attr.type;
      sqlType = attr.sqlType;
      if (!attr.nullable) guarantee = "number";
    }
    const zero = sqlType === "text" ? "''" : "0";
    if (guarantee === "number" || (guarantee === "present" && type !== "float")) {
      columns.push({ expr: value, type: sqlType, descending: key.descending });
    } else if (type === "float") {
      // PostgreSQL sorts NaN above every number; here NaN comes after all numbers in both
      // directions, and before missing values.
      columns.push({
        expr: `(CASE WHEN ${value} IS NULL THEN 2 WHEN ${value} = 'NaN'::float8 THEN 1 ELSE 0 END)`,
        type: "int",
        descending: false,
      });
      columns.push({
        expr: `(CASE WHEN ${value} IS NULL OR ${value} = 'NaN'::float8 THEN 0 ELSE ${value} END)`,
        type: sqlType,
        descending: key.descending,
      });
    } else {
      columns.push({ expr: `(CASE WHEN ${value} IS NULL THEN 1 ELSE 0 END)`, type: "int", descending: false });
      columns.push({ expr: `COALESCE(${value}, ${zero})`, type: sqlType, descending: key.descending });
    }
  });
  columns.push({ expr: `${a}.${spec.idColumn}`, type: spec.idType, descending: false });
  const restExpr: FilterExpr | undefined =
    rest.length === 0 ? undefined : rest.length === 1 ? rest[0] : { kind: "and", operands: rest };
  return { columns, joins, rest: restExpr, where, tiers };
}

/**
 * The types of the sort columns of a search, id last (what its page tokens must hold). They
 * depend on the filter too: see {@link OrderPlan}.
 */
export function sortColumnTypes(
  spec: SearchSpec,
  order: readonly OrderKey[],
  filter: FilterExpr | undefined,
): SortColumnType[] {
  const params = new Params();
  const compiler = new FilterCompiler(spec, params);
  return planOrder(spec, order, filter, params, (e, v) => compiler.compileOn(e, v), undefined).columns.map(
    (c) => c.type,
  );
}

/**
 * How many tiers a search's first order key splits into: 3 for a metric the filter does not
 * constrain (numbers, NaN, missing), 2 for such a param or tag (present, missing), else 0. See
 * {@link SearchSqlInput.tier}.
 */
export function tierCount(spec: SearchSpec, order: readonly OrderKey[], filter: FilterExpr | undefined): number {
  const params = new Params();
  const compiler = new FilterCompiler(spec, params);
  return planOrder(spec, order, filter, params, (e, v) => compiler.compileOn(e, v), undefined).tiers;
}

/**
 * Compiles a search into one parameterised statement: the root rows in scope and view, the filter
 * as EXISTS sub-queries over the key/value tables, the keyset condition of the page, the total
 * order and the limit. Table and column names come from the spec; every user value is a `$n`.
 */
export function buildSearchSql(input: SearchSqlInput): SearchSql {
  const { spec } = input;
  const a = spec.alias;
  const params = new Params();
  const compiler = new FilterCompiler(spec, params);
  const {
    columns,
    joins,
    rest,
    where: joinWhere,
  } = planOrder(spec, input.order, input.filter, params, (e, v) => compiler.compileOn(e, v), input.tier);

  const where: string[] = [];
  if (input.scope !== undefined) {
    const { column, type, values } = input.scope;
    where.push(`${a}.${column} IN (${values.map((v) => params.add(v, type)).join(", ")})`);
  }
  if (input.view !== "all")
    where.push(`${a}.${spec.lifecycleColumn} = '${input.view === "active" ? "active" : "deleted"}'`);
  if (rest !== undefined) where.push(compiler.compile(rest));
  where.push(...joinWhere);

  const inner = [
    `SELECT ${columns.map((c, i) => `${c.expr} AS ${i === columns.length - 1 ? "id" : `k${i}`}`).join(", ")}`,
    `FROM ${spec.table} ${a}`,
    ...joins,
    where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`,
  ]
    .filter((line) => line !== "")
    .join("\n  ");

  const names = columns.map((_, i) => (i === columns.length - 1 ? "s.id" : `s.k${i}`));
  const outer: string[] = [
    `SELECT ${names.map((n, i) => `${textOf(n, columns[i]?.type)} AS ${i === columns.length - 1 ? "id" : `k${i}`}`).join(", ")}`,
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
  params: Params,
): string {
  const placeholders = columns.map((c, i) => params.add(after[i] ?? "", c.type));
  return keysetCondition(
    columns.map((c, i) => ({ expr: names[i] ?? "", descending: c.descending })),
    placeholders,
  );
}

const sqlOperators: Record<ComparisonOp, string> = {
  "=": "=",
  "!=": "<>",
  "<": "<",
  "<=": "<=",
  ">": ">",
  ">=": ">=",
  LIKE: "LIKE",
  ILIKE: "ILIKE",
  "NOT LIKE": "NOT LIKE",
  "NOT ILIKE": "NOT ILIKE",
};

/** Turns a filter tree into a SQL condition over the root alias. */
class FilterCompiler {
  readonly #spec: SearchSpec;
  readonly #params: Params;
  #subqueries = 0;

  constructor(spec: SearchSpec, params: Params) {
    this.#spec = spec;
    this.#params = params;
  }

  compile(expr: FilterExpr): string {
    switch (expr.kind) {
      case "and":
        return `(${expr.operands.map((e) => this.compile(e)).join(" AND ")})`;
      case "or":
        return `(${expr.operands.map((e) => this.compile(e)).join(" OR ")})`;
      case "comparison":
      case "in":
        return this.#test(expr.field, (v) => this.#condition(expr, v));
      case "null-check":
        return this.#nullCheck(expr.field, expr.negated);
    }
  }

  /**
   * Compiles a comparison or IN on a keyed field against `value`, the column of a join that
   * already selects the key (see planOrder). NaN metric values match no comparison.
   */
  compileOn(expr: FilterExpr, value: string): string {
    if (expr.kind !== "comparison" && expr.kind !== "in") throw new Error(`cannot apply a ${expr.kind} to a join`);
    const nan = expr.field.type === "float" ? ` AND ${value} <> 'NaN'::float8` : "";
    return `${this.#condition(expr, value)}${nan}`;
  }

  /** The condition of a comparison or IN on `value`. */
  #condition(expr: FilterComparison | FilterIn, value: string): string {
    if (expr.kind === "comparison") return `${value} ${sqlOperators[expr.op]} ${this.#value(expr.field, expr.value)}`;
    const list = expr.values.map((v) => this.#value(expr.field, v)).join(", ");
    return `${value} ${expr.negated ? "NOT IN" : "IN"} (${list})`;
  }

  /**
   * A test of a field's value: on an attribute, the condition itself; on a keyed value, an
   * EXISTS over its table (the key must be present). NaN metric values match no comparison.
   */
  #test(field: ResolvedField, condition: (value: string) => string): string {
    const a = this.#spec.alias;
    if (field.kind === "attribute") {
      const attr = this.#spec.attributes[field.name];
      if (attr === undefined) throw new Error(`no attribute ${field.name} in the ${this.#spec.what} spec`);
      return condition(`${a}.${attr.column}`);
    }
    const keyed = this.#spec.keyed[field.entity];
    if (keyed === undefined) throw new Error(`no keyed entity ${field.entity} in the ${this.#spec.what} spec`);
    const f = `f${this.#subqueries++}`;
    const nan = keyed.type === "float" ? ` AND ${f}.value <> 'NaN'::float8` : "";
    return (
      `EXISTS (SELECT 1 FROM ${keyed.table} ${f} WHERE ${f}.${keyed.ownerColumn} = ${a}.${this.#spec.idColumn}` +
      ` AND ${f}.key = ${this.#params.add(field.key, "text")} AND ${condition(`${f}.value`)}${nan})`
    );
  }

  #nullCheck(field: ResolvedField, negated: boolean): string {
    const a = this.#spec.alias;
    if (field.kind === "attribute") {
      const attr = this.#spec.attributes[field.name];
      if (attr === undefined) throw new Error(`no attribute ${field.name} in the ${this.#spec.what} spec`);
      return `${a}.${attr.column} IS ${negated ? "NOT " : ""}NULL`;
    }
    const keyed = this.#spec.keyed[field.entity];
    if (keyed === undefined) throw new Error(`no keyed entity ${field.entity} in the ${this.#spec.what} spec`);
    const f = `f${this.#subqueries++}`;
    return (
      `${negated ? "" : "NOT "}EXISTS (SELECT 1 FROM ${keyed.table} ${f} WHERE ${f}.${keyed.ownerColumn} = ` +
      `${a}.${this.#spec.idColumn} AND ${f}.key = ${this.#params.add(field.key, "text")})`
    );
  }

  #value(field: ResolvedField, value: FilterValue): string {
    if (value.kind === "string") return this.#params.add(value.value, "text");
    return this.#params.add(String(value.value), field.type === "integer" ? "bigint" : "float8");
  }
}
