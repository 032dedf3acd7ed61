import { describe, expect, it } from "vitest";
import { renderTable } from "./table.js";

describe("renderTable", () => {
  it("pads columns to their widest cell, two spaces apart, without trailing spaces", () => {
    const text = renderTable(
      ["NAME", "V", "NOTE"],
      [
        ["iris-classifier", "2", ""],
        ["x", "10", "multi\nline"],
      ],
    );
    expect(text).toBe(
      ["NAME             V   NOTE", "iris-classifier  2", "x                10  multi line", ""].join("\n"),
    );
  });

  it("measures characters, not UTF-16 units, and fills short rows", () => {
    expect(renderTable(["A", "B"], [["é…", "1"], ["ab"]])).toBe("A   B\né…  1\nab\n");
  });
});
