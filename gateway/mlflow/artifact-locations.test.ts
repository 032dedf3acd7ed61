import { describe, expect, it } from "vitest";
import { createArtifactLocations } from "./artifact-locations.js";

describe("MLflow artifact locations", () => {
  const locations = createArtifactLocations("s3://bucket/prefix/");

  it("shows locations under the root as mlflow-artifacts:/ URIs and others as they are", () => {
    expect(locations.shown("s3://bucket/prefix/1/abc/artifacts")).toBe("mlflow-artifacts:/1/abc/artifacts");
    expect(locations.shown("s3://bucket/prefix/1/")).toBe("mlflow-artifacts:/1");
    expect(locations.shown("s3://bucket/prefixed/1")).toBe("s3://bucket/prefixed/1");
    expect(locations.shown("s3://other/1")).toBe("s3://other/1");
  });

  it("reads the path of every proxied URI form MLflow clients send, and nothing else", () => {
    expect(locations.proxiedPath("mlflow-artifacts:/1/abc/artifacts/")).toBe("1/abc/artifacts");
    expect(locations.proxiedPath("mlflow-artifacts://host:5000/1/abc")).toBe("1/abc");
    expect(locations.proxiedPath("http://host:5000/api/2.0/mlflow-artifacts/artifacts/1/abc")).toBe("1/abc");
    expect(locations.proxiedPath("s3://bucket/prefix/1")).toBeUndefined();
    expect(locations.uriOf("1/abc")).toBe("s3://bucket/prefix/1/abc");
  });
});
