import { describe, expect, it } from "vitest";
import { Code } from "../core/errors/code.js";
import { MlpipeError } from "../core/errors/mlpipe-error.js";
import { artifactKey, artifactKeyPrefix, maxArtifactPathLength, validateArtifactPath } from "./artifact-path.js";

function errorOf(fn: () => unknown): MlpipeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MlpipeError);
    return err as MlpipeError;
  }
  throw new Error("expected an error");
}

describe("validateArtifactPath", () => {
  it("accepts relative /-separated paths", () => {
    for (const p of ["model.onnx", "model/model.onnx", "a/b/c.txt", "dir with space/ünï.json", ".hidden", "a..b/c"]) {
      expect(validateArtifactPath(p, "path")).toBe(p);
    }
    expect(validateArtifactPath("x".repeat(maxArtifactPathLength), "path")).toHaveLength(1024);
  });

  it("accepts the root only where allowed", () => {
    expect(validateArtifactPath("", "path", { allowRoot: true })).toBe("");
    const e = errorOf(() => validateArtifactPath("", "header.path"));
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.field).toBe("header.path");
  });

  it.each([
    ["../etc/passwd", "`..`"],
    ["a/../../b", "`..`"],
    ["a/..", "`..`"],
    ["./a", "`.`"],
    ["a/./b", "`.`"],
    ["/etc/passwd", "relative"],
    ["a//b", "empty"],
    ["a/", "empty"],
    ["a\\b", "separator"],
    ["..\\x", "separator"],
    ["a\u0000b", "control"],
    ["a\nb", "control"],
  ])("rejects %j (%s)", (path, reason) => {
    const e = errorOf(() => validateArtifactPath(path, "path"));
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.field).toBe("path");
    expect(e.message).toContain(reason);
  });

  it("rejects paths over 1024 characters", () => {
    const e = errorOf(() => validateArtifactPath("x".repeat(maxArtifactPathLength + 1), "path"));
    expect(e.message).toContain("1024");
  });
});

describe("artifactKeyPrefix", () => {
  it("maps a run's artifact URI under the root to a key prefix", () => {
    expect(artifactKeyPrefix("file:///srv/a/1/abc/artifacts", "file:///srv/a")).toBe("1/abc/artifacts/");
    expect(artifactKeyPrefix("s3://bucket/pre/1/abc/artifacts", "s3://bucket/pre")).toBe("1/abc/artifacts/");
    expect(artifactKeyPrefix("s3://bucket/1/abc/artifacts/", "s3://bucket/")).toBe("1/abc/artifacts/");
    expect(artifactKey("s3://bucket/1/abc/artifacts", "s3://bucket", "m/model.onnx")).toBe(
      "1/abc/artifacts/m/model.onnx",
    );
  });

  it.each([
    ["file:///elsewhere/1/abc/artifacts", "file:///srv/a"],
    ["file:///srv/ab/1/abc/artifacts", "file:///srv/a"],
    ["file:///srv/a", "file:///srv/a"],
    ["file:///srv/a/", "file:///srv/a"],
    ["file:///srv/a/../b/1", "file:///srv/a"],
    ["file:///srv/a//1", "file:///srv/a"],
    ["s3://other/1/abc", "s3://bucket"],
  ])("rejects %s under root %s as FAILED_PRECONDITION", (uri, root) => {
    const e = errorOf(() => artifactKeyPrefix(uri, root));
    expect(e.code).toBe(Code.FailedPrecondition);
    expect(e.id).toBe("TRACKING_ARTIFACT_LOCATION_UNSUPPORTED");
  });
});
