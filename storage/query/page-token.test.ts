import { describe, expect, it } from "vitest";
import { commonErrors } from "../../core/errors/common-errors.js";
import { decodePageToken, encodePageToken, type SortColumnType } from "./page-token.js";

const types: SortColumnType[] = ["int", "float8", "bigint", "text"];
const values = ["0", "-1.5e-07", "1700000000000", "run-1"];

function rejects(token: string, query = "q", t: SortColumnType[] = types): void {
  expect(() => decodePageToken(token, query, t)).toThrow(
    expect.objectContaining({ id: commonErrors.invalidPageToken.id }) as Error,
  );
}

describe("page tokens", () => {
  it("round-trip the sort values of their query", () => {
    const token = encodePageToken("q", values);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token, "q", types)).toEqual(values);
    expect(decodePageToken(encodePageToken("q", ["1", "NaN", "-5", ""]), "q", types)).toEqual(["1", "NaN", "-5", ""]);
  });

  it("are rejected for another query", () => {
    rejects(encodePageToken("q", values), "other");
  });

  it("are rejected when edited, truncated or malformed", () => {
    const token = encodePageToken("q", values);
    const json = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { k: string[]; h: string };
    const edited = Buffer.from(JSON.stringify({ ...json, k: ["0", "-1.5e-07", "1700000000000", "run-2"] })).toString(
      "base64url",
    );
    rejects(edited);
    rejects(token.slice(0, -3));
    rejects(`${token}!`);
    rejects("bm90IGpzb24");
    rejects(Buffer.from("[1,2]").toString("base64url"));
    rejects(Buffer.from(JSON.stringify({ k: values })).toString("base64url"));
    rejects(token, "q", ["int", "float8", "bigint"]);
  });

  it("check each value's type even with a valid hash", () => {
    rejects(encodePageToken("q", ["0", "1; DROP TABLE runs", "1", "r"]));
    rejects(encodePageToken("q", ["x", "1", "1", "r"]));
    rejects(encodePageToken("q", ["0", "1", "1.5", "r"]));
    rejects(encodePageToken("q", ["0", "1", "1", "r\u0000"]));
  });
});
