import type { ResolvedField } from "./search-spec.js";

/**
 * The syntax tree of a parsed filter. Fields are already resolved and values type-checked
 * against the search spec, so the SQL compiler never meets a name or value it does not know.
 * Positions are 1-based columns into the filter text.
 */
export type FilterExpr = FilterAnd | FilterOr | FilterComparison | FilterIn | FilterNullCheck;

/** All operands hold (two or more). */
export interface FilterAnd {
  readonly kind: "and";
  readonly operands: readonly FilterExpr[];
}

/** At least one operand holds (two or more). */
export interface FilterOr {
  readonly kind: "or";
  readonly operands: readonly FilterExpr[];
}

/** Comparison operators after normalisation (`<>` becomes `!=`). */
export type ComparisonOp = "=" | "!=" | "<" | "<=" | ">" | ">=" | "LIKE" | "ILIKE" | "NOT LIKE" | "NOT ILIKE";

/** A literal: a string, or a number with the text it was written as. */
export type FilterValue =
  | { readonly kind: "string"; readonly value: string; readonly position: number }
  | { readonly kind: "number"; readonly value: number; readonly text: string; readonly position: number };

/**
 * `field op value`. Like MLflow, a comparison on a metric, param or tag only holds for runs that
 * have that key (so `params.x != 'a'` skips runs without `x`).
 */
export interface FilterComparison {
  readonly kind: "comparison";
  readonly field: ResolvedField;
  readonly op: ComparisonOp;
  readonly value: FilterValue;
  readonly position: number;
}

/** `field [NOT] IN (v1, v2, ...)`; at least one value. Keys must exist, as for comparisons. */
export interface FilterIn {
  readonly kind: "in";
  readonly field: ResolvedField;
  readonly negated: boolean;
  readonly values: readonly FilterValue[];
  readonly position: number;
}

/** `field IS NULL` (the key is missing / the attribute is unset) or `IS NOT NULL`. */
export interface FilterNullCheck {
  readonly kind: "null-check";
  readonly field: ResolvedField;
  readonly negated: boolean;
  readonly position: number;
}
