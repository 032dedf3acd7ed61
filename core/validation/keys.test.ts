import { describe, expect, it } from "vitest";
import { rejects } from "../../test/support/expect-invalid-argument.js";
import { validateKey, validateModelTagKey } from "./keys.js";

describe("keys", () => {
  it("accepts MLflow's characters: letters (any script), digits, _ - . / : and space", () => {
    for (const key of ["acc", "val_loss", "a-b.c", "train/loss", "a b", "ns:key", "précision", "損失", "x1"]) {
      expect(validateKey(key, "key")).toBe(key);
    }
    expect(validateKey("k".repeat(250), "key")).toHaveLength(250);
  });

  it("rejects empty, too long, other characters and unclean paths", () => {
    rejects(() => validateKey("", "key"), "key");
    rejects(() => validateKey("k".repeat(251), "key"), "key");
    for (const key of ["a!", "a=b", "a\\b", "a\nb", "a\tb", "a@b", "a'b", "a\u0000b"])
      rejects(() => validateKey(key, "key"), "key");
    expect(rejects(() => validateKey("/abs", "metrics[3].key"), "metrics[3].key")).toContain('must not start with "/"');
    for (const key of ["a/../b", "..", "a/..", ".", "a/./b", "a//b", "a/"])
      rejects(() => validateKey(key, "key"), "key");
    // Dots inside a segment are fine.
    expect(validateKey("a..b", "key")).toBe("a..b");
    expect(validateKey(".hidden", "key")).toBe(".hidden");
  });
});

describe("registry tag keys", () => {
  it("accepts 1 to 250 characters but control characters", () => {
    expect(validateModelTagKey("a b/c!")).toBe("a b/c!");
    rejects(() => validateModelTagKey(""), "key");
    rejects(() => validateModelTagKey("k".repeat(251)), "key");
    rejects(() => validateModelTagKey("a\nb", 'tags["x"]'), 'tags["x"]');
  });
});
