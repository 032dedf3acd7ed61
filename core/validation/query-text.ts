import { commonErrors } from "../errors/common-errors.js";

/** Free-form query text (filter, order_by clauses, page tokens): no NUL; the store parses the rest. */
export function validateQueryText(value: string, field: string): string {
  if (value.includes("\u0000")) throw commonErrors.invalidArgument(field, "must not contain NUL characters");
  return value;
}

/** order_by clauses: at most `max` (when given), each free of NUL (the store parses them). */
export function validateOrderBy(clauses: readonly string[], max: number | undefined, field = "order_by"): string[] {
  if (max !== undefined && clauses.length > max) {
    throw commonErrors.invalidArgument(field, `at most ${max} clauses, got ${clauses.length}`);
  }
  return clauses.map((c, i) => validateQueryText(c, `${field}[${i}]`));
}
