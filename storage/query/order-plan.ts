import type { FilterExpr } from "./filter-ast.js";
import type { OrderKey } from "./order-by.js";
import type { SortColumnType } from "./page-token.js";
import { attributeOf, type FieldType, keyedOf, ownerCondition, type SearchSpec } from "./search-spec.js";
import type { SqlParams } from "./sql-params.js";

/**
 * One column of the total order of a search. Each order key becomes one or two columns: a rank
 * that puts missing values (and NaN metrics) last whatever the direction, then the value with
 * NULL and NaN replaced by a constant so every column is NOT NULL and compares with `=`, `<`, `>`.
 * The spec's unique order ends the list.
 */
export interface SortColumn {
  /** SQL expression over the searched rows and the order joins; built only from the spec. */
  readonly expr: string;
  readonly type: SortColumnType;
  readonly descending: boolean;
}

/**
 * How the order is computed: its columns, the joins that bring ordered keyed values into the row,
 * and the filter split in two. Conjuncts of the filter on an ordered key are applied to that
 * key's join (made an inner join) instead of an EXISTS: the same rows, but the planner sees a
 * plain range on `o0.value` it can estimate and use an index for, and the rank columns that only
 * sort missing or NaN values last disappear when the conjuncts rule those out.
 */
export interface OrderPlan {
  readonly columns: SortColumn[];
  readonly joins: string[];
  /** The conjuncts not moved into a join (undefined for none). */
  readonly rest: FilterExpr | undefined;
  /** Extra conditions on the joins (the "missing" tier's anti-join). */
  readonly where: string[];
  /**
   * How many tiers the first key splits into: 3 for a metric the filter does not constrain
   * (numbers, NaN, missing), 2 for such a param or tag (present, missing), else 0.
   */
  readonly tiers: number;
}

/**
 * What a top-level AND conjunct of the filter guarantees about an ordered keyed field: that the
 * key is present ("present": IS NOT NULL, or any comparison on a string key) or present with a
 * number that is not NaN ("number": any comparison or IN on a metric, which NaN never matches).
 */
type Guarantee = "none" | "present" | "number";

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
 * names are parameters. `compileOn` compiles a conjunct moved into a join against its value
 * column. With `tier`, the first key's join selects only the rows of that tier (see
 * SearchSqlInput.tier).
 */
export function planOrder(
  spec: SearchSpec,
  order: readonly OrderKey[],
  filter: FilterExpr | undefined,
  params: SqlParams,
  compileOn: (expr: FilterExpr, value: string) => string,
  tier: number | undefined,
): OrderPlan {
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
      const keyed = keyedOf(spec, f.entity);
      const o = `o${i}`;
      value = `${o}.value`;
      type = keyed.type;
      sqlType = keyed.type === "string" ? "text" : keyed.type === "float" ? "float8" : "bigint";
      const moved = rest.filter((c) => testsKey(c, f.entity, f.key));
      rest = rest.filter((c) => !moved.includes(c));
      const on = [ownerCondition(keyed, o), `${o}.key = ${params.add(f.key, "text")}`];
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
          if (missing) where.push(`${o}.key IS NULL`);
          joins.push(`${missing ? "LEFT JOIN" : "JOIN"} ${keyed.table} ${o} ON ${on.join(" AND ")}`);
          columns.push({ expr: `${tier}`, type: "int", descending: false });
          const constant = sqlType === "text" ? "''::text" : `0::${sqlType}`;
          columns.push({ expr: tier === 0 ? value : constant, type: sqlType, descending: key.descending });
          return;
        }
      }
      joins.push(`${moved.length > 0 ? "JOIN" : "LEFT JOIN"} ${keyed.table} ${o} ON ${on.join(" AND ")}`);
    } else {
      const attr = attributeOf(spec, f.name);
      value = attr.expr;
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
  // The unique order ends every order; a column the order already sorts on adds nothing.
  for (const u of spec.uniqueOrder) {
    if (!columns.some((c) => c.expr === u.expr)) {
      columns.push({ expr: u.expr, type: u.type, descending: u.descending === true });
    }
  }
  const restExpr: FilterExpr | undefined =
    rest.length === 0 ? undefined : rest.length === 1 ? rest[0] : { kind: "and", operands: rest };
  return { columns, joins, rest: restExpr, where, tiers };
}
