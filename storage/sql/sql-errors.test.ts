import { describe, expect, it } from "vitest";
import { commonErrors } from "../../core/errors/common-errors.js";
import { SqlConstraintError } from "./sql-client.js";
import { isConnectionError, translateSqlError } from "./sql-errors.js";

function withCode(code: string, message = "boom"): Error {
  return Object.assign(new Error(message), { code });
}

describe("translateSqlError", () => {
  it.each([
    ["ECONNREFUSED", withCode("ECONNREFUSED")],
    ["ECONNRESET", withCode("ECONNRESET")],
    ["ETIMEDOUT", withCode("ETIMEDOUT")],
    ["SQLSTATE 08006", withCode("08006")],
    ["SQLSTATE 57P01 admin shutdown", withCode("57P01")],
    ["SQLSTATE 57P03 cannot connect now", withCode("57P03")],
    ["SQLSTATE 53300 too many connections", withCode("53300")],
    ["a terminated connection", new Error("Connection terminated unexpectedly")],
    ["a pool connect timeout", new Error("timeout exceeded when trying to connect")],
    ["an AggregateError of refused connects", new AggregateError([withCode("ECONNREFUSED"), withCode("ECONNREFUSED")])],
  ])("makes %s DATABASE_UNAVAILABLE, keeping the cause", (_name, err) => {
    const translated = translateSqlError(err);
    expect(commonErrors.databaseUnavailable.is(translated)).toBe(true);
    expect((translated as Error).cause).toBe(err);
  });

  it("makes SQLSTATE class 23 a SqlConstraintError with the constraint name", () => {
    const err = Object.assign(withCode("23505"), { constraint: "experiments_active_name_key" });
    const translated = translateSqlError(err);
    expect(translated).toBeInstanceOf(SqlConstraintError);
    expect(translated).toMatchObject({ sqlState: "23505", constraint: "experiments_active_name_key", cause: err });
  });

  it.each([
    ["a syntax error", withCode("42601")],
    ["a division by zero", withCode("22012")],
    ["a serialization failure", withCode("40001")],
    ["a plain error", new Error("something else")],
  ])("returns %s as it is", (_name, err) => {
    expect(translateSqlError(err)).toBe(err);
    expect(isConnectionError(err)).toBe(false);
  });

  it("leaves non-objects alone", () => {
    expect(translateSqlError("text")).toBe("text");
    expect(isConnectionError(undefined)).toBe(false);
  });
});
