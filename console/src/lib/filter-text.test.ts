import { describe, expect, it } from "vitest";
import { nameContains, quoted } from "./filter-text.js";

describe("filter text", () => {
  it("quotes values with doubled quotes", () => {
    expect(quoted("it's")).toBe("'it''s'");
  });

  it("searches names case-insensitively, and not at all for blank text", () => {
    expect(nameContains("  iris ")).toBe("name ILIKE '%iris%'");
    expect(nameContains(" ")).toBe("");
  });
});
