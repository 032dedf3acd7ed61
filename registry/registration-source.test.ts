import { describe, expect, it } from "vitest";
import { blobKeyOfUri, parseRegistrationSource } from "./registration-source.js";

describe("model sources", () => {
  const root = "file:///srv/mlpipe%20data/artifacts";
  it("parses runs:/ sources and URIs under the root", () => {
    expect(parseRegistrationSource("runs:/abc123/model/model.onnx", root)).toEqual({
      kind: "run",
      runId: "abc123",
      path: "model/model.onnx",
    });
    expect(parseRegistrationSource(`${root}/3/x/model.onnx`, root)).toEqual({ kind: "blob", key: "3/x/model.onnx" });
    expect(blobKeyOfUri("s3://bucket/prefix", "s3://bucket/prefix/a/b.onnx")).toBe("a/b.onnx");
    expect(blobKeyOfUri("s3://bucket/prefix", "s3://bucket/prefixed/a.onnx")).toBeUndefined();
    expect(blobKeyOfUri(root, "file:///srv/mlpipe%20data/artifacts/../secrets")).toBeUndefined();
  });
  it.each([
    "",
    "runs:/",
    "runs:/abc",
    "runs:/abc/",
    "runs:/abc/../x",
    "runs:/abc//x",
    "runs:/-bad/x",
    "model.onnx",
    "/abs/model.onnx",
    "file:///etc/passwd",
    "s3://bucket/x.onnx",
  ])("rejects %j naming the source field", (source) => {
    expect(() => parseRegistrationSource(source, root)).toThrow(expect.objectContaining({ field: "source" }));
  });
});
