/**
 * Fuzz suite of artifact paths (issue 13, "Evidence to show"): every path is either refused with
 * INVALID_ARGUMENT, or names a key strictly inside the run's own prefix, whatever its characters
 * (`..`, `./`, backslashes, NUL, percent-encoding, Unicode).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MlpipeError } from "../core/errors/index.js";
import { artifactKey, validateArtifactPath } from "./artifact-path.js";

const root = "s3://bucket/root";
const runUri = `${root}/7/0123456789abcdef0123456789abcdef/artifacts`;
const prefix = "7/0123456789abcdef0123456789abcdef/artifacts/";

const segment = fc.oneof(
  fc.constantFrom("..", ".", "", "a", "model.onnx", "%2e%2e", "\\..", "a\u0000b", "\u202e", " ", "~"),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: "binary", maxLength: 8 }),
);
const path = fc.oneof(
  fc.array(segment, { maxLength: 8 }).map((s) => s.join("/")),
  fc.string({ maxLength: 64 }),
  fc.string({ unit: "binary", minLength: 1000, maxLength: 1100 }),
);

describe("artifact paths (fuzz)", () => {
  it("refuses a path with INVALID_ARGUMENT or keeps it inside the run's prefix", () => {
    fc.assert(
      fc.property(path, (p) => {
        let valid: string;
        try {
          valid = validateArtifactPath(p, "path");
        } catch (err) {
          if (!(err instanceof MlpipeError)) throw err;
          expect(err.id).toBe("INVALID_ARGUMENT");
          return;
        }
        const key = artifactKey(runUri, root, valid);
        expect(key.startsWith(prefix)).toBe(true);
        expect(key.length).toBeGreaterThan(prefix.length);
        expect(key.split("/")).not.toContain("..");
      }),
      { numRuns: 4000 },
    );
  });
});
