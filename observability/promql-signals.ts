/**
 * The signals of an alert expression: the parts whose values the alert compares, which must return
 * series on a healthy system even though the alert itself returns nothing there. For
 * `A > 0.5 and B > 1` they are `A` and `B`; for `up == 1 unless on (instance) (x == 1)`, `up` and
 * `x`. The dashboard test evaluates each against a live Prometheus: an empty signal is a misspelt
 * metric or label, which would make the alert silently unable to fire.
 *
 * Rules, applied at the outermost level of the expression (outside parentheses, braces, brackets
 * and quoted strings): a set operator (`and`, `or`, `unless`, with its `on (...)`/`ignoring (...)`)
 * splits it, each side yielding its own signals; else a filtering comparison (`>`, `<`, `>=`,
 * `<=`, `==`, `!=`, not `bool`) keeps its left side; else the expression is its own signal.
 * Parentheses around the whole are removed first. This is enough for threshold alerts; an
 * expression it cannot take apart is returned whole (and then must return series itself).
 */

/**
 * For each character of `expr`: its nesting depth in (), {} and [] (an opening bracket counts
 * inside, a closing one outside), or undefined inside a quoted string.
 */
function depths(expr: string): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i] ?? "";
    if (quote !== undefined) {
      out.push(undefined);
      if (c === "\\") {
        out.push(undefined);
        i++;
      } else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === "`") {
      quote = c;
      out.push(undefined);
    } else if (c === "(" || c === "{" || c === "[") {
      depth++;
      out.push(depth);
    } else if (c === ")" || c === "}" || c === "]") {
      out.push(depth);
      depth--;
    } else out.push(depth);
  }
  return out;
}

/** `expr` without parentheses enclosing all of it. */
function unwrap(expr: string): string {
  let e = expr.trim();
  // The first "(" encloses everything when the depth never falls back to 0 before the last character.
  while (
    e.startsWith("(") &&
    e.endsWith(")") &&
    depths(e)
      .slice(1, -1)
      .every((d) => d === undefined || d >= 1)
  ) {
    e = e.slice(1, -1).trim();
  }
  return e;
}

const setOperator = /\b(and|or|unless)\b(\s+(on|ignoring)\s*\([^)]*\))?/g;
const comparison = /(==|!=|>=|<=|>|<)(?!\s*bool\b)/g;

/** Top-level matches of `pattern` in `expr`. */
function topLevelMatches(expr: string, pattern: RegExp): RegExpExecArray[] {
  const d = depths(expr);
  return [...expr.matchAll(pattern)].filter((m) => d[m.index] === 0);
}

/** The signals of `expr` (see the module comment), in order. */
export function promqlSignals(expr: string): string[] {
  const e = unwrap(expr);
  const sets = topLevelMatches(e, setOperator);
  if (sets.length > 0) {
    const parts: string[] = [];
    let from = 0;
    for (const m of sets) {
      parts.push(e.slice(from, m.index));
      from = m.index + m[0].length;
    }
    parts.push(e.slice(from));
    return parts.flatMap(promqlSignals);
  }
  const [first] = topLevelMatches(e, comparison);
  if (first !== undefined) return [unwrap(e.slice(0, first.index))];
  return [e];
}
