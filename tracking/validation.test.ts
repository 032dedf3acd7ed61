import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Code } from "../core/errors/code.js";
import { MlpipeError } from "../core/errors/mlpipe-error.js";
import {
  MetricSchema,
  ParamSchema,
  RunStatus,
  RunStatusSchema,
  TagSchema,
} from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import {
  pageSizes,
  validateBatchId,
  validateEnum,
  validateExperimentId,
  validateExperimentName,
  validateKey,
  validateLogBatch,
  validateOrderBy,
  validatePageSize,
  validateParamValue,
  validateQueryText,
  validateRunId,
  validateRunName,
  validateSha256,
  validateStep,
  validateTagMap,
  validateTagValue,
  validateTimestamp,
} from "./validation.js";

/** Runs `fn`, expects INVALID_ARGUMENT about `field`, returns the message. */
function rejects(fn: () => unknown, field: string): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MlpipeError);
    const e = err as MlpipeError;
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.id).toBe("INVALID_ARGUMENT");
    expect(e.field).toBe(field);
    expect(e.message).toContain(field);
    return e.message;
  }
  throw new Error(`expected INVALID_ARGUMENT for ${field}`);
}

const metric = (key: string, extra: { timestamp?: bigint; step?: bigint; value?: number } = {}) =>
  create(MetricSchema, { key, value: extra.value ?? 1, timestamp: extra.timestamp ?? 1n, step: extra.step ?? 0n });
const param = (key: string, value: string) => create(ParamSchema, { key, value });
const tag = (key: string, value: string) => create(TagSchema, { key, value });
const batch = (over: Partial<Parameters<typeof validateLogBatch>[0]> = {}) => ({
  metrics: [],
  params: [],
  tags: [],
  batchId: "",
  ...over,
});

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

  it("accepts run names up to 250 characters, empty included", () => {
    expect(validateRunName("")).toBe("");
    expect(validateRunName("r".repeat(250))).toHaveLength(250);
    rejects(() => validateRunName("r".repeat(251)), "run_name");
  });
});

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

describe("values", () => {
  it("caps param values at 6000 and tag values at 8000 characters", () => {
    expect(validateParamValue("v".repeat(6000), "value")).toHaveLength(6000);
    expect(validateParamValue("", "value")).toBe("");
    rejects(() => validateParamValue("v".repeat(6001), "params[0].value"), "params[0].value");
    expect(validateTagValue("v".repeat(8000), "value")).toHaveLength(8000);
    rejects(() => validateTagValue("v".repeat(8001), "value"), "value");
  });

  it("validates experiment tag maps by key", () => {
    expect(validateTagMap({ team: "ml" }, "tags")).toEqual({ team: "ml" });
    rejects(() => validateTagMap({ "bad!": "x" }, "tags"), 'tags["bad!"].key');
    rejects(() => validateTagMap({ ok: "v".repeat(8001) }, "tags"), 'tags["ok"].value');
  });
});

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
});

describe("numbers", () => {
  it("accepts timestamps from 0 to 2^53-1 milliseconds", () => {
    expect(validateTimestamp(0n, "t")).toBe(0);
    expect(validateTimestamp(1_700_000_000_000n, "t")).toBe(1_700_000_000_000);
    expect(validateTimestamp(BigInt(Number.MAX_SAFE_INTEGER), "t")).toBe(Number.MAX_SAFE_INTEGER);
    rejects(() => validateTimestamp(-1n, "metrics[0].timestamp"), "metrics[0].timestamp");
    rejects(() => validateTimestamp(BigInt(Number.MAX_SAFE_INTEGER) + 1n, "t"), "t");
  });

  it("accepts any step within ±(2^53-1), negative included", () => {
    expect(validateStep(-5n, "s")).toBe(-5n);
    expect(validateStep(BigInt(-Number.MAX_SAFE_INTEGER), "s")).toBe(BigInt(-Number.MAX_SAFE_INTEGER));
    rejects(() => validateStep(BigInt(Number.MAX_SAFE_INTEGER) + 1n, "s"), "s");
    rejects(() => validateStep(-(2n ** 63n), "s"), "s");
  });

  it("applies page size defaults and maxima", () => {
    expect(validatePageSize(0, pageSizes.searchRuns)).toBe(1000);
    expect(validatePageSize(0, pageSizes.searchExperiments)).toBe(100);
    expect(validatePageSize(0, pageSizes.metricHistory)).toBe(25_000);
    expect(validatePageSize(50_000, pageSizes.searchRuns)).toBe(50_000);
    rejects(() => validatePageSize(50_001, pageSizes.searchRuns), "max_results");
    rejects(() => validatePageSize(1001, pageSizes.searchExperiments), "max_results");
    rejects(() => validatePageSize(-1, pageSizes.metricHistory), "max_results");
  });

  it("accepts only enum values the contract defines", () => {
    expect(validateEnum(RunStatus.FINISHED, RunStatusSchema, "status")).toBe(RunStatus.FINISHED);
    expect(validateEnum(0 as RunStatus, RunStatusSchema, "status")).toBe(0);
    expect(rejects(() => validateEnum(99 as RunStatus, RunStatusSchema, "status"), "status")).toContain("99");
  });
});

describe("query text", () => {
  it("rejects NUL in filters, order_by clauses and page tokens", () => {
    expect(validateQueryText("name = 'a'", "filter")).toBe("name = 'a'");
    rejects(() => validateQueryText("name = '\u0000'", "filter"), "filter");
    rejects(() => validateOrderBy(["name", "x\u0000"], 3), "order_by[1]");
  });

  it("caps the number of order_by clauses where there is a cap", () => {
    expect(validateOrderBy(["a", "b", "c"], 3)).toEqual(["a", "b", "c"]);
    rejects(() => validateOrderBy(["a", "b", "c", "d"], 3), "order_by");
    expect(validateOrderBy(["a", "b", "c", "d"], undefined)).toHaveLength(4);
  });
});

describe("validateLogBatch", () => {
  it("accepts up to 1000 metrics, 100 params and 100 tags", () => {
    const ok = validateLogBatch(
      batch({
        metrics: Array.from({ length: 1000 }, (_, i) => metric(`m${i % 7}`, { step: BigInt(i) })),
        params: Array.from({ length: 100 }, (_, i) => param(`p${i}`, "v")),
        tags: Array.from({ length: 100 }, (_, i) => tag(`t${i}`, "v")),
        batchId: "b-1",
      }),
    );
    expect(ok.metrics).toHaveLength(1000);
    expect(ok.params).toHaveLength(100);
    expect(ok.tags).toHaveLength(100);
    expect(ok.batchId).toBe("b-1");
  });

  it("rejects too many items, naming the list", () => {
    expect(
      rejects(() => validateLogBatch(batch({ metrics: Array.from({ length: 1001 }, () => metric("m")) })), "metrics"),
    ).toContain("1000");
    rejects(
      () => validateLogBatch(batch({ params: Array.from({ length: 101 }, (_, i) => param(`p${i}`, "v")) })),
      "params",
    );
    rejects(() => validateLogBatch(batch({ tags: Array.from({ length: 101 }, (_, i) => tag(`t${i}`, "v")) })), "tags");
  });

  it("names the offending item and its field", () => {
    rejects(
      () => validateLogBatch(batch({ metrics: [metric("ok"), metric("ok"), metric("ok"), metric("bad!")] })),
      "metrics[3].key",
    );
    rejects(() => validateLogBatch(batch({ metrics: [metric("ok", { timestamp: -1n })] })), "metrics[0].timestamp");
    rejects(() => validateLogBatch(batch({ params: [param("p", "v".repeat(6001))] })), "params[0].value");
    rejects(() => validateLogBatch(batch({ tags: [tag("t", "ok"), tag("../t", "v")] })), "tags[1].key");
    rejects(() => validateLogBatch(batch({ batchId: "not valid" })), "batch_id");
  });

  it("keeps NaN and infinite metric values", () => {
    const out = validateLogBatch(
      batch({ metrics: [metric("a", { value: Number.NaN }), metric("b", { value: Number.POSITIVE_INFINITY })] }),
    );
    expect(out.metrics[0]?.value).toBeNaN();
    expect(out.metrics[1]?.value).toBe(Number.POSITIVE_INFINITY);
  });

  it("keeps a param repeated with the same value once and rejects a different value", () => {
    const out = validateLogBatch(batch({ params: [param("lr", "0.1"), param("bs", "32"), param("lr", "0.1")] }));
    expect(out.params.map((p) => [p.key, p.value])).toEqual([
      ["lr", "0.1"],
      ["bs", "32"],
    ]);
    const message = rejects(
      () => validateLogBatch(batch({ params: [param("lr", "0.1"), param("lr", "0.2")] })),
      "params[1].key",
    );
    expect(message).toContain("params[0]");
  });

  it("keeps the last value of a repeated tag", () => {
    const out = validateLogBatch(batch({ tags: [tag("a", "1"), tag("b", "2"), tag("a", "3")] }));
    expect(out.tags.map((t) => [t.key, t.value])).toEqual([
      ["b", "2"],
      ["a", "3"],
    ]);
  });
});
