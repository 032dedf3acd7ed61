import { describe, expect, it } from "vitest";
import { rejects } from "../../test/support/expect-invalid-argument.js";
import {
  isRunIdInUri,
  validateBatchId,
  validateExperimentId,
  validateRunId,
  validateSha256,
  validateVersion,
} from "./ids.js";

describe("ids", () => {
  it("accepts run ids of 32 lower-case hex digits only", () => {
    const id = "0123456789abcdef0123456789abcdef";
    expect(validateRunId(id)).toBe(id);
    expect(rejects(() => validateRunId(""), "run_id")).toContain("required");
    rejects(() => validateRunId(id.toUpperCase()), "run_id");
    rejects(() => validateRunId(`${id}0`), "run_id");
    rejects(() => validateRunId(id.slice(1)), "run_id");
    rejects(() => validateRunId("0123456789abcdef0123456789abcdeg"), "run_id");
  });

  it("accepts decimal experiment ids within int64", () => {
    for (const id of ["0", "1", "42", "9223372036854775807"]) expect(validateExperimentId(id)).toBe(id);
    for (const id of ["", "-1", "01", "1.0", "abc", " 1", "9223372036854775808", "1e3"]) {
      rejects(() => validateExperimentId(id), "experiment_id");
    }
    rejects(() => validateExperimentId("x", "experiment_ids[2]"), "experiment_ids[2]");
  });

  it("accepts batch ids of 1 to 128 characters of [A-Za-z0-9_.:-], or none", () => {
    expect(validateBatchId("")).toBe("");
    expect(validateBatchId("3f2c-11ee:a_b.c")).toBe("3f2c-11ee:a_b.c");
    expect(validateBatchId("b".repeat(128))).toHaveLength(128);
    rejects(() => validateBatchId("b".repeat(129)), "batch_id");
    for (const id of ["a b", "a/b", "é", "a\u0000"]) rejects(() => validateBatchId(id), "batch_id");
  });

  it("accepts lower-case hex SHA-256 or nothing", () => {
    expect(validateSha256("", "expected_sha256")).toBe("");
    expect(validateSha256("a".repeat(64), "expected_sha256")).toHaveLength(64);
    rejects(() => validateSha256("A".repeat(64), "expected_sha256"), "expected_sha256");
    rejects(() => validateSha256("a".repeat(63), "expected_sha256"), "expected_sha256");
  });

  it("accepts MLflow's run ids in runs:/ URIs", () => {
    for (const id of ["abc123", "run1", "0123456789abcdef0123456789abcdef", "a-b_c"])
      expect(isRunIdInUri(id)).toBe(true);
    for (const id of ["", "-a", "a/b", "a b", "x".repeat(257)]) expect(isRunIdInUri(id)).toBe(false);
  });

  it("accepts version numbers from 1", () => {
    expect(validateVersion(1n)).toBe(1n);
    rejects(() => validateVersion(0n), "version");
  });
});
