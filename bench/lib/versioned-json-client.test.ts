import { describe, expect, it } from "vitest";
import { modelVersionOf } from "./versioned-json-client.js";

describe("modelVersionOf", () => {
  it("reads the model_version of a /predict answer", () => {
    expect(modelVersionOf('{"prediction":{"class_index":0},"model_version":"12","latency_ms":0.4}')).toBe("12");
  });

  it("throws on an answer without one (a broken answer counts as a failure)", () => {
    expect(() => modelVersionOf('{"prediction":{}}')).toThrow("model_version");
    expect(() => modelVersionOf('{"model_version":""}')).toThrow("model_version");
    expect(() => modelVersionOf('{"model_version":3}')).toThrow("model_version");
    expect(() => modelVersionOf("[]")).toThrow("model_version");
    expect(() => modelVersionOf("not json")).toThrow(SyntaxError);
  });
});
