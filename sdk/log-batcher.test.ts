import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { MetricSchema, ParamSchema, TagSchema } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { createLogBatcher, maxBatchMetrics, maxBatchParams, maxBatchTags, type PendingBatch } from "./log-batcher.js";
import { withRetries } from "./retry-policy.js";

const closedError = (what: string) => new Error(`closed: ${what}`);

describe("log batcher", () => {
  it("sends everything in order, in batches within the LogBatch limits", async () => {
    const sent: PendingBatch[] = [];
    const batcher = createLogBatcher({
      flushIntervalMs: 60_000,
      maxBufferedEntries: 10_000,
      closedError,
      send: async (batch) => {
        sent.push(batch);
        // Slower than the logging loop, so more than a batch piles up while one is in flight.
        await new Promise((resolve) => setImmediate(resolve));
      },
    });
    for (let i = 0; i < 2500; i++) await batcher.addMetric(create(MetricSchema, { key: "m", value: i }));
    for (let i = 0; i < 150; i++) await batcher.addParam(create(ParamSchema, { key: `p${i}`, value: "v" }));
    for (let i = 0; i < 120; i++) await batcher.addTag(create(TagSchema, { key: `t${i}`, value: "v" }));
    await batcher.close();

    expect(sent.length).toBeGreaterThanOrEqual(3);
    for (const b of sent) {
      expect(b.metrics.length).toBeLessThanOrEqual(maxBatchMetrics);
      expect(b.params.length).toBeLessThanOrEqual(maxBatchParams);
      expect(b.tags.length).toBeLessThanOrEqual(maxBatchTags);
      expect(b.metrics.length + b.params.length + b.tags.length).toBeGreaterThan(0);
    }
    expect(sent.flatMap((b) => b.metrics.map((m) => m.value))).toEqual(Array.from({ length: 2500 }, (_, i) => i));
    expect(sent.flatMap((b) => b.params.map((p) => p.key))).toEqual(Array.from({ length: 150 }, (_, i) => `p${i}`));
    expect(sent.flatMap((b) => b.tags).length).toBe(120);
    expect(batcher.pending).toBe(0);
    await expect(batcher.addMetric(create(MetricSchema, { key: "late" }))).rejects.toThrow("closed: metric");
  });

  it("rethrows a failed batch's error on flush and on every later call", async () => {
    const failure = new ConnectError("invalid metric key", Code.InvalidArgument);
    const batcher = createLogBatcher({
      flushIntervalMs: 60_000,
      maxBufferedEntries: 10_000,
      closedError,
      send: () => Promise.reject(failure),
    });
    await batcher.addMetric(create(MetricSchema, { key: "../bad" }));
    await expect(batcher.flush()).rejects.toBe(failure);
    await expect(batcher.addParam(create(ParamSchema, { key: "p", value: "v" }))).rejects.toBe(failure);
    await expect(batcher.close()).rejects.toBe(failure);
  });
});

describe("withRetries", () => {
  it("retries transient codes and gives up at once on the others", async () => {
    let calls = 0;
    const flaky = async () => {
      calls++;
      if (calls < 3) throw new ConnectError("down", Code.Unavailable);
      return "ok";
    };
    await expect(withRetries({ attempts: 4, initialDelayMs: 1 }, flaky)).resolves.toBe("ok");
    expect(calls).toBe(3);

    calls = 0;
    const bad = async () => {
      calls++;
      throw new ConnectError("bad", Code.InvalidArgument);
    };
    await expect(withRetries({ attempts: 4, initialDelayMs: 1 }, bad)).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
    expect(calls).toBe(1);
  });
});
