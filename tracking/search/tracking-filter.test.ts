import { describe, expect, it } from "vitest";
import { MlpipeError } from "../../core/errors/mlpipe-error.js";
import { trackingErrors } from "../../core/errors/tracking-errors.js";
import type { FilterExpr } from "../../storage/query/filter-ast.js";
import { tokenize } from "../../storage/query/filter-lexer.js";
import { maxFilterDepth, maxFilterLength, parseFilter } from "../../storage/query/filter-parser.js";
import { experimentSearchSpec } from "./experiment-search-spec.js";
import { runSearchSpec } from "./run-search-spec.js";

const parse = (text: string): FilterExpr | undefined => parseFilter(text, runSearchSpec);

/** The message of the error parsing `text` throws; fails the test when it parses. */
function errorOf(text: string): string {
  try {
    parse(text);
  } catch (err) {
    expect(trackingErrors.invalidFilter.is(err), String(err)).toBe(true);
    expect((err as MlpipeError).field).toBe("filter");
    return (err as MlpipeError).message;
  }
  throw new Error(`"${text}" parsed without error`);
}

/** A compact rendering of a tree: fields by display name, values as written. */
function show(expr: FilterExpr | undefined): string {
  if (expr === undefined) return "<all>";
  switch (expr.kind) {
    case "and":
      return `(${expr.operands.map(show).join(" AND ")})`;
    case "or":
      return `(${expr.operands.map(show).join(" OR ")})`;
    case "comparison":
      return `${expr.field.display} ${expr.op} ${JSON.stringify(expr.value.value)}`;
    case "in":
      return `${expr.field.display} ${expr.negated ? "NOT IN" : "IN"} [${expr.values.map((v) => JSON.stringify(v.value)).join(",")}]`;
    case "null-check":
      return `${expr.field.display} IS ${expr.negated ? "NOT " : ""}NULL`;
  }
}

describe("tokenize", () => {
  it("reads fields, quoted keys, strings, numbers and operators with 1-based positions", () => {
    const tokens = tokenize("metrics.`val loss` <= -1.5e-3 AND params.\"lr\" != 'it''s' OR tags.a/b-c.d <> \"x\"");
    expect(tokens.map((t) => [t.kind, t.position])).toEqual([
      ["field", 1],
      ["operator", 20],
      ["number", 23],
      ["word", 31],
      ["field", 35],
      ["operator", 47],
      ["string", 50],
      ["word", 58],
      ["field", 61],
      ["operator", 74],
      ["string", 77],
      ["end", 80],
    ]);
    expect(tokens[0]).toMatchObject({ prefix: "metrics", key: "val loss" });
    expect(tokens[2]).toMatchObject({ value: -0.0015 });
    expect(tokens[4]).toMatchObject({ prefix: "params", key: "lr" });
    expect(tokens[6]).toMatchObject({ value: "it's" });
    expect(tokens[8]).toMatchObject({ prefix: "tags", key: "a/b-c.d" });
  });
});

describe("parseFilter", () => {
  it("returns undefined for an empty or blank filter", () => {
    expect(parse("")).toBeUndefined();
    expect(parse("   \n")).toBeUndefined();
  });

  it("binds AND tighter than OR", () => {
    expect(show(parse("metrics.a > 1 OR metrics.b < 2 AND params.c = 'x'"))).toBe(
      '(metrics.a > 1 OR (metrics.b < 2 AND params.c = "x"))',
    );
    expect(show(parse("metrics.a > 1 AND metrics.b < 2 OR params.c = 'x'"))).toBe(
      '((metrics.a > 1 AND metrics.b < 2) OR params.c = "x")',
    );
  });

  it("lets parentheses override precedence and nest", () => {
    expect(show(parse("(metrics.a > 1 OR metrics.b < 2) AND ((params.c = 'x'))"))).toBe(
      '((metrics.a > 1 OR metrics.b < 2) AND params.c = "x")',
    );
  });

  it("reads keywords case-insensitively and every operator", () => {
    expect(
      show(
        parse(
          "metrics.a = 1 and metrics.a != 2 and metrics.a <> 3 and metrics.a < 4 and metrics.a <= 5 " +
            "and metrics.a > 6 and metrics.a >= 7 and params.p like 'a%' and params.p ilike 'A%' " +
            "and params.p not like 'b%' and params.p NOT ILIKE 'B%' and tags.t in ('x', \"y\") " +
            "and tags.t not in ('z') and tags.u is null and tags.v IS NOT NULL",
        ),
      ),
    ).toBe(
      "(metrics.a = 1 AND metrics.a != 2 AND metrics.a != 3 AND metrics.a < 4 AND metrics.a <= 5 AND " +
        'metrics.a > 6 AND metrics.a >= 7 AND params.p LIKE "a%" AND params.p ILIKE "A%" AND ' +
        'params.p NOT LIKE "b%" AND params.p NOT ILIKE "B%" AND tags.t IN ["x","y"] AND ' +
        'tags.t NOT IN ["z"] AND tags.u IS NULL AND tags.v IS NOT NULL)',
    );
  });

  it("resolves attributes, prefixes and MLflow spellings", () => {
    expect(show(parse("attributes.run_name = 'a'"))).toBe('run_name = "a"');
    expect(show(parse("`Run Name` = 'a'"))).toBe('run_name = "a"');
    expect(show(parse("attributes.`run name` = 'a'"))).toBe('run_name = "a"');
    expect(show(parse("run_id = 'abc' AND start_time > 10 AND end_time IS NULL"))).toBe(
      '(run_id = "abc" AND start_time > 10 AND end_time IS NULL)',
    );
    expect(show(parse("metric.x > 1 AND param.y = 'a' AND tag.z = 'b' AND parameters.w = 'c'"))).toBe(
      '(metrics.x > 1 AND params.y = "a" AND tags.z = "b" AND params.w = "c")',
    );
    expect(show(parse("METRICS.acc > 1"))).toBe("metrics.acc > 1");
    expect(show(parse("metrics.précision:top-1 > 1"))).toBe("metrics.précision:top-1 > 1");
    expect(show(parse("tags.\"mlflow.source name\" = 'x'"))).toBe('tags.`mlflow.source name` = "x"');
  });

  it("normalises status values to upper case", () => {
    expect(show(parse("status = 'finished' OR status IN ('failed', 'KILLED')"))).toBe(
      '(status = "FINISHED" OR status IN ["FAILED","KILLED"])',
    );
    expect(show(parse("status LIKE 'FIN%'"))).toBe('status LIKE "FIN%"');
  });

  it("reads numbers: integers, decimals, exponents, signs", () => {
    expect(show(parse("metrics.a > -1 AND metrics.b < .5 AND metrics.c = 1e3 AND metrics.d >= -2.5E-2"))).toBe(
      "(metrics.a > -1 AND metrics.b < 0.5 AND metrics.c = 1000 AND metrics.d >= -0.025)",
    );
  });

  it("names the position and cause of each syntax error", () => {
    expect(errorOf("metrics.accuracy >")).toBe("invalid filter at position 19: expected a value after '>'");
    expect(errorOf("metrics.acc > 0.9 AND")).toBe(
      "invalid filter at position 22: expected a comparison, got the end of the filter",
    );
    expect(errorOf("params.lr = 'abc")).toBe("invalid filter at position 13: unterminated string: no closing '");
    expect(errorOf('params.lr = "abc')).toBe('invalid filter at position 13: unterminated string: no closing "');
    expect(errorOf("metrics.`val loss > 1")).toBe(
      "invalid filter at position 9: unterminated backtick-quoted name: no closing `",
    );
    expect(errorOf("(metrics.a > 1 OR metrics.b > 2")).toBe(
      "invalid filter at position 1: unbalanced '(': no matching ')'",
    );
    expect(errorOf("metrics.a > 1)")).toBe("invalid filter at position 14: unbalanced ')'");
    expect(errorOf("metrics.a > 1 metrics.b > 2")).toBe(
      "invalid filter at position 15: expected AND, OR or the end of the filter, got 'metrics.b'",
    );
    expect(errorOf("tags.t IN ()")).toBe("invalid filter at position 12: empty IN list: give at least one value");
    expect(errorOf("tags.t IN 'a'")).toBe("invalid filter at position 11: expected '(' after 'IN'");
    expect(errorOf("tags.t NOT IN ('a' 'b')")).toBe(
      "invalid filter at position 20: expected ',' or ')' in the IN list, got the string 'b'",
    );
    expect(errorOf("tags.t IN ('a',")).toBe("invalid filter at position 16: expected a value after ','");
    expect(errorOf("tags.t IN ('a'")).toBe("invalid filter at position 11: unbalanced '(': IN list has no ')'");
    expect(errorOf("tags.t NOT = 'a'")).toBe("invalid filter at position 12: expected IN, LIKE or ILIKE after 'NOT'");
    expect(errorOf("tags.t IS 'a'")).toBe("invalid filter at position 11: expected NULL after 'IS'");
    expect(errorOf("tags.t 'a'")).toBe(
      "invalid filter at position 8: expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL) after tags.t, got the string 'a'",
    );
    expect(errorOf("tags.t")).toBe("invalid filter at position 7: expected an operator after tags.t");
    expect(errorOf("metrics.a == 1")).toBe("invalid filter at position 11: unexpected '==' (use '=')");
    expect(errorOf("metrics.a ! 1")).toBe(
      "invalid filter at position 11: unexpected character '!' (did you mean '!='?)",
    );
    expect(errorOf("metrics.a > 1 ; DROP TABLE runs")).toBe("invalid filter at position 15: unexpected character ';'");
    expect(errorOf("metrics.a > 1.2.3")).toBe("invalid filter at position 13: malformed number '1.2.'");
    expect(errorOf("metrics.a > 1e999")).toBe("invalid filter at position 13: number '1e999' is out of range");
    expect(errorOf("metrics. > 1")).toMatch(/^invalid filter at position 9: expected a key after 'metrics.'/);
    expect(errorOf("metrics.`` > 1")).toBe("invalid filter at position 9: empty key after 'metrics.'");
    expect(errorOf("AND metrics.a > 1")).toBe(
      "invalid filter at position 1: expected a field name such as metrics.<key>, got 'AND'",
    );
    expect(errorOf("params.lr = abc")).toBe(
      "invalid filter at position 13: expected a value after '=', got 'abc' (quote strings: 'value')",
    );
  });

  it("rejects unknown prefixes and attributes, naming the valid ones", () => {
    expect(errorOf("metrics.a > 1 AND foo.bar = 'x'")).toBe(
      "invalid filter at position 19: unknown prefix 'foo.': use metrics.<key>, params.<key>, tags.<key>, attributes.<key>",
    );
    expect(errorOf("attributes.color = 'x'")).toBe(
      "invalid filter at position 1: unknown attribute 'color' of runs: use one of run_name, status, start_time, end_time, run_id",
    );
    expect(errorOf("color = 'x'")).toMatch(/^invalid filter at position 1: unknown attribute 'color' of runs/);
  });

  it("applies the type rules with the value's position", () => {
    expect(errorOf("metrics.acc > '0.9'")).toBe(
      "invalid filter at position 15: metrics.acc compares to numbers, got the string '0.9'",
    );
    expect(errorOf("metrics.acc LIKE '0.9%'")).toBe(
      "invalid filter at position 18: metrics.acc is a number: 'LIKE' applies to strings only",
    );
    expect(errorOf("params.lr = 0.1")).toBe(
      "invalid filter at position 13: params.lr compares to strings: quote the value, e.g. '0.1'",
    );
    expect(errorOf("params.lr > '0.1'")).toBe(
      "invalid filter at position 13: params.lr is a string: use =, !=, LIKE, ILIKE, IN or NOT IN, not '>'",
    );
    expect(errorOf("tags.t IN ('a', 2)")).toBe(
      "invalid filter at position 17: tags.t compares to strings: quote the value, e.g. '2'",
    );
    expect(errorOf("run_name = 5")).toMatch(/^invalid filter at position 12: run_name compares to strings/);
    expect(errorOf("start_time > 1.5")).toBe(
      "invalid filter at position 14: start_time compares to whole numbers (milliseconds or ids), got 1.5",
    );
    expect(errorOf("end_time < 'yesterday'")).toMatch(/^invalid filter at position 12: end_time compares to numbers/);
    expect(errorOf("status = 'DONE'")).toBe(
      "invalid filter at position 10: invalid status 'DONE': use one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED",
    );
    expect(errorOf("status NOT IN ('FINISHED', 'OK')")).toMatch(/^invalid filter at position 28: invalid status 'OK'/);
  });

  it("rejects what PostgreSQL would reject: a LIKE pattern ending in its escape, a NUL", () => {
    expect(errorOf("params.p LIKE 'a\\'")).toBe(
      "invalid filter at position 15: the pattern ends with the escape character '\\' (write '\\\\' for a backslash)",
    );
    expect(errorOf("params.p NOT ILIKE 'a\\\\\\'")).toMatch(/^invalid filter at position 20: the pattern ends/);
    const tree = parse("params.p LIKE 'a\\\\' AND params.p LIKE '\\_%' AND params.p = 'a\\'");
    const values = tree?.kind === "and" ? tree.operands.map((o) => (o.kind === "comparison" ? o.value.value : "")) : [];
    expect(values).toEqual(["a\\\\", "\\_%", "a\\"]);
    expect(errorOf("params.p = 'a\u0000'")).toBe("invalid filter at position 14: unexpected NUL character");
  });

  it("limits length and depth", () => {
    expect(errorOf(`params.a = '${"x".repeat(maxFilterLength)}'`)).toBe(
      `invalid filter at position ${maxFilterLength + 1}: filter is longer than ${maxFilterLength} characters`,
    );
    const ok = `${"(".repeat(maxFilterDepth)}metrics.a > 1${")".repeat(maxFilterDepth)}`;
    expect(show(parse(ok))).toBe("metrics.a > 1");
    const deep = `${"(".repeat(maxFilterDepth + 1)}metrics.a > 1${")".repeat(maxFilterDepth + 1)}`;
    expect(errorOf(deep)).toBe(
      `invalid filter at position ${maxFilterDepth + 1}: parentheses nested deeper than ${maxFilterDepth}`,
    );
  });

  it("uses the experiment spec's names for experiment searches", () => {
    const tree = parseFilter("name LIKE 'iris%' AND tags.team = 'ml' AND creation_time > 5", experimentSearchSpec);
    expect(show(tree)).toBe('(name LIKE "iris%" AND tags.team = "ml" AND creation_time > 5)');
    expect(() => parseFilter("metrics.a > 1", experimentSearchSpec)).toThrow(
      "invalid filter at position 1: unknown prefix 'metrics.': use tags.<key>, attributes.<key>",
    );
    expect(() => parseFilter("run_name = 'a'", experimentSearchSpec)).toThrow(
      /unknown attribute 'run_name' of experiments/,
    );
  });

  it("is an MlpipeError with code invalid_argument", () => {
    try {
      parse("(");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(MlpipeError);
      expect((err as MlpipeError).id).toBe("TRACKING_INVALID_FILTER");
    }
  });
});
