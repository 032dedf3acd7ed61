import { describe, expect, it } from "vitest";
import { trackingErrors } from "../../core/errors/tracking-errors.js";
import { formatOrderKey, parseOrderBy } from "../../storage/query/order-by.js";
import { experimentSearchSpec } from "./experiment-search-spec.js";
import { runSearchSpec } from "./run-search-spec.js";

const parse = (clauses: string[]): string[] => parseOrderBy(clauses, runSearchSpec).map(formatOrderKey);

function errorOf(clauses: string[]): string {
  try {
    parse(clauses);
  } catch (err) {
    expect(trackingErrors.invalidOrderBy.is(err), String(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error(`${JSON.stringify(clauses)} parsed without error`);
}

describe("parseOrderBy", () => {
  it("reads fields with an optional direction, ascending by default", () => {
    expect(parse(["metrics.accuracy DESC", "params.lr", "start_time asc"])).toEqual([
      "metrics.accuracy DESC",
      "params.lr ASC",
      "start_time ASC",
    ]);
    expect(parse(["attributes.run_name"])).toEqual(["run_name ASC"]);
    expect(parse(["metrics.`val loss` desc"])).toEqual(["metrics.`val loss` DESC"]);
    expect(parse(['tags."a b"'])).toEqual(["tags.`a b` ASC"]);
    expect(parse([])).toEqual([]);
    expect(parseOrderBy(["name DESC"], experimentSearchSpec).map(formatOrderKey)).toEqual(["name DESC"]);
  });

  it("names the clause and the problem", () => {
    expect(errorOf(["metrics.a", "metrics.b", "metrics.c", "metrics.d"])).toBe(
      'invalid order_by "metrics.d": at most 3 order_by clauses are allowed, got 4',
    );
    expect(errorOf(["metrics.a DESC", "metric.a"])).toBe('invalid order_by "metric.a": metrics.a is ordered on twice');
    expect(errorOf(["start_time", "created DESC"])).toBe(
      'invalid order_by "created DESC": start_time is ordered on twice',
    );
    expect(errorOf([""])).toBe('invalid order_by "": empty clause: name a field (at position 1)');
    expect(errorOf(["metrics.a DOWN"])).toBe(
      'invalid order_by "metrics.a DOWN": expected ASC or DESC after the field (at position 11)',
    );
    expect(errorOf(["metrics.a DESC, params.b"])).toBe(
      'invalid order_by "metrics.a DESC, params.b": unexpected text after ASC/DESC (at position 15)',
    );
    expect(errorOf(["foo.a"])).toMatch(/^invalid order_by "foo.a": unknown prefix 'foo.'/);
    expect(errorOf(["colour"])).toMatch(/^invalid order_by "colour": unknown attribute 'colour' of runs/);
    expect(errorOf(["'start_time'"])).toBe(
      "invalid order_by \"'start_time'\": expected a field name such as metrics.<key> (at position 1)",
    );
    expect(errorOf(["metrics.`a"])).toMatch(/unterminated backtick-quoted name/);
  });
});
