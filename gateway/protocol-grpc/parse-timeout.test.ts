import { describe, expect, it } from "vitest";
import { parseGrpcTimeout } from "./parse-timeout.js";

describe("parseGrpcTimeout", () => {
  it("is no deadline without the header", () => {
    expect(parseGrpcTimeout(undefined, 1000)).toEqual({ deadline: undefined });
  });

  it.each([
    ["1H", 3_600_000],
    ["2M", 120_000],
    ["3S", 3000],
    ["200m", 200],
    ["1500u", 1.5],
    ["99999999n", 99.999999],
  ])("%s is a deadline %d ms after arrival", (header, ms) => {
    expect(parseGrpcTimeout(header, 1000).deadline).toBeCloseTo(1000 + ms, 9);
  });

  it.each([["soon"], ["10"], ["123456789S"], ["1.5S"], ["-1S"], ["10s"], [""]])(
    "%s is INVALID_ARGUMENT on grpc-timeout",
    (header) => {
      const { error } = parseGrpcTimeout(header, 0);
      expect(error).toMatchObject({ id: "INVALID_ARGUMENT", field: "grpc-timeout" });
      expect(error?.message).toContain(JSON.stringify(header));
    },
  );
});
