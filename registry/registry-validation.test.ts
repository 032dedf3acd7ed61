import { describe, expect, it } from "vitest";
import { Stage } from "../gen/mlpipe/registry/v1/registry_pb.js";
import { blobKeyOfUri, parseModelSource } from "./registration-source.js";
import { actorFrom, checkAlias, checkModelName, checkStage } from "./registry-validation.js";

describe("alias names (MLflow's rules)", () => {
  it.each(["champion", "challenger", "prod-2024_a", "V", "v1a", "x".repeat(255)])("accepts %s", (alias) => {
    expect(checkAlias(alias)).toBe(alias);
  });
  it.each(["", "latest", "LATEST", "v1", "V42", "a b", "a/b", "é", "x".repeat(256)])("rejects %j", (alias) => {
    expect(() => checkAlias(alias)).toThrow(expect.objectContaining({ id: "INVALID_ARGUMENT", field: "alias" }));
  });
});

describe("request fields", () => {
  it("checks model names, stages and the actor header", () => {
    expect(() => checkModelName("a/b")).toThrow(expect.objectContaining({ field: "name" }));
    expect(() => checkModelName(" a")).toThrow(expect.objectContaining({ field: "name" }));
    expect(checkModelName("Iris classifier")).toBe("Iris classifier");
    expect(() => checkStage(Stage.UNSPECIFIED)).toThrow(expect.objectContaining({ field: "stage" }));
    expect(() => checkStage(99 as Stage)).toThrow(expect.objectContaining({ field: "stage" }));
    expect(checkStage(Stage.ARCHIVED)).toBe(Stage.ARCHIVED);
    expect(actorFrom(null)).toBe("anonymous");
    expect(actorFrom("  ")).toBe("anonymous");
    expect(actorFrom(" alice ")).toBe("alice");
    expect(() => actorFrom("a\u0001b")).toThrow(expect.objectContaining({ field: "mlpipe-actor" }));
  });
});

describe("model sources", () => {
  const root = "file:///srv/mlpipe%20data/artifacts";
  it("parses runs:/ sources and URIs under the root", () => {
    expect(parseModelSource("runs:/abc123/model/model.onnx", root)).toEqual({
      kind: "run",
      runId: "abc123",
      path: "model/model.onnx",
    });
    expect(parseModelSource(`${root}/3/x/model.onnx`, root)).toEqual({ kind: "blob", key: "3/x/model.onnx" });
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
    expect(() => parseModelSource(source, root)).toThrow(expect.objectContaining({ field: "source" }));
  });
});
