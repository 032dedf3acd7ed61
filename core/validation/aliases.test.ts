import { describe, expect, it } from "vitest";
import { aliasProblem, validateAlias } from "./aliases.js";

describe("alias names (MLflow's rules)", () => {
  it.each(["champion", "challenger", "prod-2024_a", "V", "v1a", "x".repeat(255)])("accepts %s", (alias) => {
    expect(validateAlias(alias)).toBe(alias);
  });
  it.each(["", "latest", "LATEST", "v1", "V42", "a b", "a/b", "é", "x".repeat(256)])("rejects %j", (alias) => {
    expect(() => validateAlias(alias)).toThrow(expect.objectContaining({ id: "INVALID_ARGUMENT", field: "alias" }));
  });
  it("explains the problem", () => {
    expect(aliasProblem("champion")).toBeUndefined();
    expect(aliasProblem("v1")).toBe('"v1" is reserved for version numbers');
    expect(aliasProblem("latest")).toBe("'latest' is reserved");
  });
});
