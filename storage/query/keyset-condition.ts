/** One column of a total order, as a keyset condition compares it. */
export interface KeysetColumn {
  /** SQL expression of the column; NOT NULL, so `=`, `<` and `>` mean what they say. */
  readonly expr: string;
  readonly descending: boolean;
}

/**
 * Rows strictly after the row whose sort values are `after` (placeholders such as `$3::bigint`,
 * one per column) in the order of `columns`: (c0, c1, ...) compared lexicographically, each column
 * in its own direction, written out as OR of prefixes ("c0 after" or "c0 equal and c1 after" ...),
 * plus a redundant bound on c0 so an index on it can narrow the scan. The columns must end with a
 * unique tie-breaker, so a page resumes exactly where the last one ended.
 */
export function keysetCondition(columns: readonly KeysetColumn[], after: readonly string[]): string {
  const disjuncts: string[] = [];
  for (let i = 0; i < columns.length; i++) {
    const terms: string[] = [];
    for (let j = 0; j < i; j++) terms.push(`${columns[j]?.expr} = ${after[j]}`);
    terms.push(`${columns[i]?.expr} ${columns[i]?.descending === true ? "<" : ">"} ${after[i]}`);
    disjuncts.push(terms.length === 1 ? (terms[0] ?? "") : `(${terms.join(" AND ")})`);
  }
  const bound = `${columns[0]?.expr} ${columns[0]?.descending === true ? "<=" : ">="} ${after[0]}`;
  return `${bound} AND (${disjuncts.join("\n    OR ")})`;
}
