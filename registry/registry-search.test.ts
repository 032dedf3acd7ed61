import { describe, expect, it } from "vitest";
import { parseFilter } from "../storage/query/filter-parser.js";
import { parseOrderBy } from "../storage/query/order-by.js";
import { buildSearchSql } from "../storage/query/search-sql.js";
import { modelSearchSpec } from "./model-search-spec.js";
import { versionSearchSpec } from "./version-search-spec.js";

/** The statement of a version search with `filter`, default order. */
function versionSql(filter: string): { sql: string; params: readonly unknown[] } {
  return buildSearchSql({
    spec: versionSearchSpec,
    filter: parseFilter(filter, versionSearchSpec),
    order: parseOrderBy(["name"], versionSearchSpec),
    after: undefined,
    limit: 10,
  });
}

describe("registry search filters", () => {
  it("compiles conditions with every value as a parameter", () => {
    const { sql, params } = versionSql("name LIKE 'ir''is%' and version >= 3 AND tags.`my key` = \"x\"");
    expect(sql).toContain("m.name LIKE $1::text");
    expect(sql).toContain("v.version >= $2::bigint");
    expect(sql).toMatch(
      /EXISTS \(SELECT 1 FROM model_version_tags f0 WHERE f0\.model_id = v\.model_id AND f0\.version = v\.version AND f0\.key = \$4::text AND f0\.value = \$3::text\)/,
    );
    expect(params.slice(0, 4)).toEqual(["ir'is%", "3", "x", "my key"]);
    expect(versionSql("tags.a.b != 'x'").params.slice(0, 2)).toEqual(["x", "a.b"]);
  });

  it("takes the language of run search: OR, parentheses, IN, IS NULL; stages in any case", () => {
    expect(versionSql("name = 'a' OR (name = 'b' AND tags.t IS NULL)").sql).toContain(
      "(m.name = $1::text OR (m.name = $2::text AND NOT EXISTS",
    );
    const stages = versionSql("current_stage IN ('production', 'STAGING')");
    expect(stages.sql).toContain("v.current_stage IN ($1::text, $2::text)");
    expect(stages.params.slice(0, 2)).toEqual(["Production", "Staging"]);
    expect(() => parseFilter("current_stage = 'Live'", versionSearchSpec)).toThrow(
      "invalid filter: at position 17: invalid current_stage 'Live': use one of None, Staging, Production, Archived",
    );
  });

  it.each([
    ["owner = 'x'", 1],
    ["name > 'x'", 8],
    ["version LIKE 'x'", 14],
    ["version = 'x'", 11],
    ["name = 'x", 8],
    ["name =", 7],
    ["foo.bar = 'x'", 1],
  ])("rejects %j at position %i", (filter, position) => {
    expect(() => parseFilter(filter, versionSearchSpec)).toThrow(
      expect.objectContaining({
        id: "INVALID_ARGUMENT",
        field: "filter",
        message: expect.stringContaining(`at position ${position}:`),
      }),
    );
  });

  it("names the fields a model search knows", () => {
    expect(() => parseFilter("run_id = 'x'", modelSearchSpec)).toThrow(
      "unknown attribute 'run_id' of registered models: use one of name, creation_time, last_updated_time",
    );
    expect(() => parseFilter("foo.bar = 'x'", modelSearchSpec)).toThrow("unknown prefix 'foo.': use tags.<key>");
    expect(() => parseOrderBy(["size"], modelSearchSpec)).toThrow(
      expect.objectContaining({ id: "INVALID_ARGUMENT", field: "order_by" }),
    );
  });
});
