import { describe, expect, it } from "vitest";
import { promqlSignals } from "./promql-signals.js";

describe("promqlSignals", () => {
  it("keeps the left side of a threshold", () => {
    expect(promqlSignals('registry_database_up{job="r"} == 0')).toEqual(['registry_database_up{job="r"}']);
    expect(promqlSignals("sum by (a) (rate(x[5m])) / sum by (a) (rate(y[5m]))\n> 0.01")).toEqual([
      "sum by (a) (rate(x[5m])) / sum by (a) (rate(y[5m]))",
    ]);
  });

  it("splits set operators, with their matching modifiers, at the outermost level only", () => {
    expect(
      promqlSignals(`(
        a:ratio_rate1h{protocol=~"http|grpc"} > (14.4 * 0.001)
        and
        a:ratio_rate5m{protocol=~"http|grpc"} > (14.4 * 0.001)
      )
      or
      (b > 6 and c > 6)`),
    ).toEqual(['a:ratio_rate1h{protocol=~"http|grpc"}', 'a:ratio_rate5m{protocol=~"http|grpc"}', "b", "c"]);
    expect(promqlSignals('(up{job="i"} == 1)\nunless on (job, instance)\n(active{job="i"} == 1)')).toEqual([
      'up{job="i"}',
      'active{job="i"}',
    ]);
  });

  it("leaves operators inside selectors, strings, calls and bool comparisons alone", () => {
    expect(promqlSignals('x{code=~"a|b",le!="0.5"}')).toEqual(['x{code=~"a|b",le!="0.5"}']);
    expect(promqlSignals('label_replace(x, "d", "and > or", "s", "(.*)")')).toEqual([
      'label_replace(x, "d", "and > or", "s", "(.*)")',
    ]);
    expect(promqlSignals("(x > bool 1) + (y or z)")).toEqual(["(x > bool 1) + (y or z)"]);
    expect(promqlSignals("(a) + (b)")).toEqual(["(a) + (b)"]);
  });
});
