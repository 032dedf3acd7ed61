import { describe, expect, it } from "vitest";
import { rejects } from "../../test/support/expect-invalid-argument.js";
import { validateExperimentName, validateModelName, validateRunName } from "./names.js";

describe("experiment and run names", () => {
  it("accepts 1 to 500 characters for experiments, counted in code points", () => {
    expect(validateExperimentName("a")).toBe("a");
    expect(validateExperimentName("x".repeat(500))).toHaveLength(500);
    // 500 emoji are 1000 UTF-16 units but 500 characters.
    expect(validateExperimentName("😀".repeat(500))).toHaveLength(1000);
    rejects(() => validateExperimentName(""), "name");
    expect(rejects(() => validateExperimentName("x".repeat(501)), "name")).toContain("at most 500");
    rejects(() => validateExperimentName("😀".repeat(501), "new_name"), "new_name");
  });

  it("rejects NUL, which PostgreSQL text cannot hold", () => {
    rejects(() => validateExperimentName("a\u0000b"), "name");
    rejects(() => validateRunName("a\u0000b"), "run_name");
  });

  it("rejects newlines, C1 controls and bidirectional formatting characters (issue 13)", () => {
    for (const bad of ["a\nb", "a\rb", "tab\there", "a\u0085b", "evil\u202egpj.exe", "a\u2066b\u2069", "a\u200fb"]) {
      expect(rejects(() => validateExperimentName(bad), "name")).toContain("control");
      rejects(() => validateRunName(bad), "run_name");
      rejects(() => validateModelName(bad), "name");
    }
    // Right-to-left text itself is fine: only the invisible formatting characters are refused.
    expect(validateExperimentName("تجربة 1")).toBe("تجربة 1");
  });

  it("accepts run names up to 250 characters, empty included", () => {
    expect(validateRunName("")).toBe("");
    expect(validateRunName("r".repeat(250))).toHaveLength(250);
    rejects(() => validateRunName("r".repeat(251)), "run_name");
  });
});

describe("registered model names", () => {
  it("accepts 1 to 256 characters without '/', control characters or outer whitespace", () => {
    expect(() => validateModelName("a/b")).toThrow(expect.objectContaining({ field: "name" }));
    expect(() => validateModelName(" a")).toThrow(expect.objectContaining({ field: "name" }));
    expect(validateModelName("Iris classifier")).toBe("Iris classifier");
    expect(validateModelName("m".repeat(256))).toHaveLength(256);
    rejects(() => validateModelName("m".repeat(257), "new_name"), "new_name");
    rejects(() => validateModelName("a\u0001b"), "name");
    rejects(() => validateModelName(""), "name");
  });
});
