import { describe, expect, it } from "vitest";
import { parseFilter } from "./filter-parser.js";
import { maxJoinableSubqueries } from "./filter-sql.js";
import { parseOrderBy } from "./order-by.js";
import type { SearchSpec } from "./search-spec.js";
import { buildSearchSql, planSearchOrder } from "./search-sql.js";

/** Items owned by a (group, number) pair, with tags and scores, as a spec of the engine sees them. */
const spec: SearchSpec = {
  what: "items",
  from: "items i JOIN groups g ON g.group_id = i.group_id",
  select: { group_id: "i.group_id", number: "i.number" },
  uniqueOrder: [
    { expr: "g.name", type: "text" },
    { expr: "i.number", type: "bigint", descending: true },
  ],
  keyed: {
    tag: {
      prefixes: ["tags"],
      table: "item_tags",
      owner: { group_id: "i.group_id", number: "i.number" },
      type: "string",
    },
    score: {
      prefixes: ["scores"],
      table: "item_scores",
      owner: { group_id: "i.group_id", number: "i.number" },
      type: "float",
    },
  },
  attributes: {
    name: { expr: "g.name", type: "string", sqlType: "text", nullable: false, aliases: [] },
    number: { expr: "i.number", type: "integer", sqlType: "bigint", nullable: false, aliases: [] },
  },
  attributePrefixes: [],
  maxOrderByClauses: 2,
  invalidFilter: (position, reason) => new Error(`filter ${position}: ${reason}`),
  invalidOrderBy: (clause, reason) => new Error(`order_by ${clause}: ${reason}`),
};

function sql(filter: string, orderBy: string[] = ["name"]): string {
  return buildSearchSql({
    spec,
    filter: parseFilter(filter, spec),
    order: parseOrderBy(orderBy, spec),
    after: undefined,
    limit: 5,
  }).sql;
}

describe("buildSearchSql", () => {
  it("ties keyed rows to their owner on every owner column", () => {
    expect(sql("tags.t = 'x'")).toContain(
      "EXISTS (SELECT 1 FROM item_tags f0 WHERE f0.group_id = i.group_id AND f0.number = i.number AND f0.key = $2::text AND f0.value = $1::text)",
    );
  });

  it("fences the sub-queries past the joinable few so the planner does not join them all", () => {
    const filter = Array.from({ length: 10 }, (_, k) => `scores.s${k} > 0`).join(" AND ");
    const text = sql(filter);
    expect(text.match(/EXISTS \(/g)).toHaveLength(10);
    expect(text.match(/ OFFSET 0\)/g)).toHaveLength(10 - maxJoinableSubqueries);
  });

  it("ends every order with the unique order, but not twice", () => {
    const columns = (orderBy: string[]) =>
      planSearchOrder(spec, parseOrderBy(orderBy, spec), undefined).columns.map(
        (c) => `${c.expr}${c.descending ? " DESC" : ""}`,
      );
    expect(columns(["name DESC"])).toEqual(["g.name DESC", "i.number DESC"]);
    expect(columns(["number"])).toEqual(["i.number", "g.name"]);
    expect(planSearchOrder(spec, parseOrderBy(["scores.a"], spec), undefined).tiers).toBe(3);
    expect(() => parseOrderBy(["name", "number", "tags.x"], spec)).toThrow("at most 2 order_by clauses");
  });

  it("asks for a lifecycle column before selecting by view", () => {
    expect(() =>
      buildSearchSql({ spec, view: "active", filter: undefined, order: [], after: undefined, limit: 1 }),
    ).toThrow(/no lifecycle/);
  });
});
