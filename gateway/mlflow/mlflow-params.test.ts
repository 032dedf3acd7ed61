import { describe, expect, it } from "vitest";
import { commonErrors } from "../../core/errors/index.js";
import {
  boolField,
  keyValueMap,
  optionalDouble,
  optionalEnum,
  optionalInt64,
  pageSizeField,
  queryParams,
  runIdField,
  stringList,
} from "./mlflow-params.js";

/** Expects `f` to throw INVALID_ARGUMENT naming `field`. */
function expectInvalid(f: () => unknown, field: string): void {
  try {
    f();
  } catch (err) {
    expect(commonErrors.invalidArgument.is(err)).toBe(true);
    expect((err as { field?: string }).field ?? (err as Error).message).toContain(field);
    return;
  }
  expect.unreachable(`no error for ${field}`);
}

describe("MLflow request parameters", () => {
  it("reads a query string, repeated keys and `key[]` as lists", () => {
    expect(queryParams("/x?a=1&b=2&b=3&c[]=4&d=%2Fe")).toEqual({ a: "1", b: ["2", "3"], c: ["4"], d: "/e" });
    expect(queryParams("/x")).toEqual({});
  });

  it("reads int64 as JSON numbers or decimal strings, within int64", () => {
    expect(optionalInt64({ t: 5 }, "t")).toBe(5n);
    expect(optionalInt64({ t: "9223372036854775807" }, "t")).toBe(2n ** 63n - 1n);
    expect(optionalInt64({}, "t")).toBeUndefined();
    expectInvalid(() => optionalInt64({ t: "9223372036854775808" }, "t"), "t");
    expectInvalid(() => optionalInt64({ t: 1.5 }, "t"), "t");
    expectInvalid(() => optionalInt64({ t: "1e3" }, "t"), "t");
    expect(pageSizeField({ max_results: "10" })).toBe(10);
    expect(pageSizeField({})).toBe(0);
    expectInvalid(() => pageSizeField({ max_results: -1 }), "max_results");
  });

  it("reads doubles as numbers, numeric strings and protobuf's special values", () => {
    expect(optionalDouble({ v: "0.5" }, "v")).toBe(0.5);
    expect(optionalDouble({ v: "NaN" }, "v")).toBeNaN();
    expect(optionalDouble({ v: "-Infinity" }, "v")).toBe(Number.NEGATIVE_INFINITY);
    expectInvalid(() => optionalDouble({ v: "" }, "v"), "v");
    expectInvalid(() => optionalDouble({ v: true }, "v"), "v");
  });

  it("reads booleans, lists, key-value maps, enums and the run id as MLflow's clients send them", () => {
    expect(boolField({ b: "TRUE" }, "b")).toBe(true);
    expect(boolField({}, "b")).toBe(false);
    expectInvalid(() => boolField({ b: "yes" }, "b"), "b");
    expect(stringList({ s: "a" }, "s")).toEqual(["a"]);
    expectInvalid(() => stringList({ s: ["a", 1] }, "s"), "s[1]");
    expect(keyValueMap({ tags: [{ key: "a", value: "1" }, { key: "a", value: "2" }, { key: "b" }] }, "tags")).toEqual({
      a: "2",
      b: "",
    });
    expectInvalid(() => keyValueMap({ tags: [{ value: "1" }] }, "tags"), "tags[0].key");
    const names = { RUNNING: 1, FINISHED: 3 };
    expect(optionalEnum({ s: "finished" }, "s", names, { 3: 3 })).toBe(3);
    expect(optionalEnum({ s: 3 }, "s", names, { 3: 3 })).toBe(3);
    expectInvalid(() => optionalEnum({ s: "DONE" }, "s", names), "s");
    expect(runIdField({ run_uuid: "abc" })).toBe("abc");
    expect(runIdField({ run_id: "def", run_uuid: "abc" })).toBe("def");
  });
});
