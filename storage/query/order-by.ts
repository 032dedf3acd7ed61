import { tokenize } from "./filter-lexer.js";
import { QuerySyntaxError } from "./query-syntax-error.js";
import { type ResolvedField, resolveField, type SearchSpec } from "./search-spec.js";

/** One parsed order_by clause. */
export interface OrderKey {
  readonly field: ResolvedField;
  readonly descending: boolean;
}

/**
 * Parses order_by clauses such as `metrics.accuracy DESC`, `params.lr`, `start_time ASC`,
 * `attributes.run_name` (ascending unless DESC; keywords case-insensitive; keys may be quoted as in
 * filters). At most the spec's maxOrderByClauses, each field once. Throws the spec's
 * invalid-order-by error naming the clause. An empty list returns [] (the caller applies its
 * default order).
 */
export function parseOrderBy(clauses: readonly string[], spec: SearchSpec): OrderKey[] {
  const max = spec.maxOrderByClauses;
  if (clauses.length > max) {
    throw spec.invalidOrderBy(clauses[max] ?? "", `at most ${max} order_by clauses are allowed, got ${clauses.length}`);
  }
  const keys: OrderKey[] = [];
  const seen = new Set<string>();
  for (const clause of clauses) {
    const key = parseClause(clause, spec);
    const id = key.field.kind === "keyed" ? `${key.field.entity}\u0000${key.field.key}` : key.field.name;
    if (seen.has(id)) throw spec.invalidOrderBy(clause, `${key.field.display} is ordered on twice`);
    seen.add(id);
    keys.push(key);
  }
  return keys;
}

/** The canonical spelling of a key, used in page-token hashes: `metrics.acc DESC`. */
export function formatOrderKey(key: OrderKey): string {
  return `${key.field.display} ${key.descending ? "DESC" : "ASC"}`;
}

function parseClause(clause: string, spec: SearchSpec): OrderKey {
  try {
    if (clause.length > 1000) throw new QuerySyntaxError(1001, "clause is longer than 1000 characters");
    const tokens = tokenize(clause);
    const [first, second, third] = tokens;
    if (first === undefined || first.kind === "end") throw new QuerySyntaxError(1, "empty clause: name a field");
    let resolved: ResolvedField | string;
    if (first.kind === "field") resolved = resolveField(spec, first.prefix, first.key);
    else if (first.kind === "word" || first.kind === "quoted-name")
      resolved = resolveField(spec, undefined, first.text);
    else throw new QuerySyntaxError(first.position, "expected a field name such as metrics.<key>");
    if (typeof resolved === "string") throw new QuerySyntaxError(first.position, resolved);
    let descending = false;
    if (second !== undefined && second.kind !== "end") {
      const dir = second.kind === "word" ? second.text.toUpperCase() : "";
      if (dir !== "ASC" && dir !== "DESC") {
        throw new QuerySyntaxError(second.position, "expected ASC or DESC after the field");
      }
      descending = dir === "DESC";
      if (third !== undefined && third.kind !== "end") {
        throw new QuerySyntaxError(third.position, "unexpected text after ASC/DESC");
      }
    }
    return { field: resolved, descending };
  } catch (err) {
    if (err instanceof QuerySyntaxError) {
      throw spec.invalidOrderBy(clause, `${err.reason} (at position ${err.position})`);
    }
    throw err;
  }
}
