import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { MetricSchema, ParamSchema, TagSchema } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { rejects } from "../test/support/expect-invalid-argument.js";
import { validateLogBatch } from "./log-batch-validation.js";

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
