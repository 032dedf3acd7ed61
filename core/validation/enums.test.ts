import { describe, expect, it } from "vitest";
import { Stage } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { RunStatus, RunStatusSchema } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { rejects } from "../../test/support/expect-invalid-argument.js";
import { validateEnum, validateStage } from "./enums.js";

describe("enums", () => {
  it("accepts only enum values the contract defines", () => {
    expect(validateEnum(RunStatus.FINISHED, RunStatusSchema, "status")).toBe(RunStatus.FINISHED);
    expect(validateEnum(0 as RunStatus, RunStatusSchema, "status")).toBe(0);
    expect(rejects(() => validateEnum(99 as RunStatus, RunStatusSchema, "status"), "status")).toContain("99");
  });

  it("accepts the four stages only", () => {
    expect(() => validateStage(Stage.UNSPECIFIED)).toThrow(expect.objectContaining({ field: "stage" }));
    expect(() => validateStage(99 as Stage)).toThrow(expect.objectContaining({ field: "stage" }));
    expect(validateStage(Stage.ARCHIVED)).toBe(Stage.ARCHIVED);
    rejects(() => validateStage(Stage.UNSPECIFIED, "stages[1]"), "stages[1]");
  });
});
