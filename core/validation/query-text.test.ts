import { describe, expect, it } from "vitest";
import { rejects } from "../../test/support/expect-invalid-argument.js";
import { validateOrderBy, validateQueryText } from "./query-text.js";

describe("query text", () => {
  it("rejects NUL in filters, order_by clauses and page tokens", () => {
    expect(validateQueryText("name = 'a'", "filter")).toBe("name = 'a'");
    rejects(() => validateQueryText("name = '\u0000'", "filter"), "filter");
    rejects(() => validateOrderBy(["name", "x\u0000"], 3), "order_by[1]");
  });

  it("caps the number of order_by clauses where there is a cap", () => {
    expect(validateOrderBy(["a", "b", "c"], 3)).toEqual(["a", "b", "c"]);
    rejects(() => validateOrderBy(["a", "b", "c", "d"], 3), "order_by");
    expect(validateOrderBy(["a", "b", "c", "d"], undefined)).toHaveLength(4);
  });
});
