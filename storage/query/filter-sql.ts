import type { ComparisonOp, FilterComparison, FilterExpr, FilterIn, FilterValue } from "./filter-ast.js";
import { attributeOf, keyedOf, ownerCondition, type ResolvedField, type SearchSpec } from "./search-spec.js";
import type { SqlParams } from "./sql-params.js";

/**
 * How many sub-queries of one filter the planner may turn into joins. PostgreSQL pulls an
 * `EXISTS` conjunct up into a semi-join (`NOT EXISTS` into an anti-join) and then searches join
 * orders over all of them, which grows steeply with their number: 200 comparisons on metrics
 * took 7.5 s to plan on an experiment of 4 runs (issue 13). The first few stay joinable, so the
 * planner can still drive a search from the most selective index; the rest are fenced with
 * `OFFSET 0` (a sub-query with an OFFSET is never pulled up) and run as sub-plans, one index
 * probe per candidate row: linear in the comparisons and in the rows. Together with the root
 * table and at most 3 order joins this stays within join_collapse_limit (8).
 */
export const maxJoinableSubqueries = 4;

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

/**
 * Turns a filter tree into a SQL condition over the searched rows: attributes compare their
 * column, keyed fields become EXISTS sub-queries over their key/value table (the key must be
 * present). One compiler per statement: it numbers the sub-queries' aliases (f0, f1, ...).
 */
export class FilterCompiler {
  readonly #spec: SearchSpec;
  readonly #params: SqlParams;
  #subqueries = 0;

  constructor(spec: SearchSpec, params: SqlParams) {
    this.#spec = spec;
    this.#params = params;
  }

  /** The condition of `expr`. */
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
    if (field.kind === "attribute") return condition(attributeOf(this.#spec, field.name).expr);
    const keyed = keyedOf(this.#spec, field.entity);
    const f = `f${this.#subqueries}`;
    const nan = keyed.type === "float" ? ` AND ${f}.value <> 'NaN'::float8` : "";
    return `EXISTS (${this.#subquery(f, field, `${condition(`${f}.value`)}${nan}`)})`;
  }

  #nullCheck(field: ResolvedField, negated: boolean): string {
    if (field.kind === "attribute") {
      return `${attributeOf(this.#spec, field.name).expr} IS ${negated ? "NOT " : ""}NULL`;
    }
    return `${negated ? "" : "NOT "}EXISTS (${this.#subquery(`f${this.#subqueries}`, field, undefined)})`;
  }

  /** `SELECT 1` of the keyed rows of `field` owned by the searched row, fenced past the joinable few. */
  #subquery(f: string, field: ResolvedField & { kind: "keyed" }, condition: string | undefined): string {
    const keyed = keyedOf(this.#spec, field.entity);
    const fence = this.#subqueries++ >= maxJoinableSubqueries ? " OFFSET 0" : "";
    const key = this.#params.add(field.key, "text");
    return (
      `SELECT 1 FROM ${keyed.table} ${f} WHERE ${ownerCondition(keyed, f)} AND ${f}.key = ${key}` +
      `${condition === undefined ? "" : ` AND ${condition}`}${fence}`
    );
  }

  #value(field: ResolvedField, value: FilterValue): string {
    if (value.kind === "string") return this.#params.add(value.value, "text");
    return this.#params.add(String(value.value), field.type === "integer" ? "bigint" : "float8");
  }
}
