import { describe, expect, it } from "vitest";
import { parseDeadlineHeaders } from "./deadline-headers.js";

describe("parseDeadlineHeaders", () => {
  it("is no deadline without a timeout header", () => {
    expect(parseDeadlineHeaders({}, 100)).toEqual({ deadline: undefined });
  });

  it("reads X-Request-Timeout-Ms, else Connect-Timeout-Ms, in ms after arrival", () => {
    expect(parseDeadlineHeaders({ "x-request-timeout-ms": "250" }, 100)).toEqual({ deadline: 350 });
    expect(parseDeadlineHeaders({ "connect-timeout-ms": "40" }, 100)).toEqual({ deadline: 140 });
    expect(parseDeadlineHeaders({ "x-request-timeout-ms": "1", "connect-timeout-ms": "99" }, 0)).toEqual({
      deadline: 1,
    });
  });

  it.each([["0"], ["-5"], ["1.5"], ["soon"], ["12345678901"], [""]])("refuses %j, naming the header", (value) => {
    expect(parseDeadlineHeaders({ "x-request-timeout-ms": value }, 0).error).toMatchObject({
      id: "INVALID_ARGUMENT",
      field: "x-request-timeout-ms",
      message: "invalid x-request-timeout-ms: must be a positive integer number of milliseconds",
    });
  });
});
