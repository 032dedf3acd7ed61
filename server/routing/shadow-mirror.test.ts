import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { createInferenceMetrics } from "../inference-metrics.js";
import type { LoadedModel, ModelManager, RowsInput, RowsOutput } from "../models/model-manager.js";
import type { ShadowTarget } from "./model-traffic.js";
import { createShadowMirror } from "./shadow-mirror.js";

type Submit = (request: { readonly rows: number; readonly input: RowsInput }) => Promise<RowsOutput>;

/** Serving's batcher: a mirror never goes there (it would count as an error). */
const serving: Submit = () => Promise.reject(new Error("a mirror went to the serving batcher"));

/** A regression version stand-in whose shadow batcher answers with `submit`: only the fields the mirror reads. */
function version(features: number, submit: Submit): LoadedModel {
  return {
    signature: {
      inputs: [],
      outputs: [],
      input: { name: "x", dtype: "float32", features },
      interpretation: { task: "regression", value: "y" },
    },
    batcher: { submit: serving, drain: async () => undefined, queuedRows: 0, running: 0 },
    shadowBatcher: { submit, drain: async () => undefined, queuedRows: 0, running: 0 },
  } as Partial<LoadedModel> as LoadedModel;
}

/** Outputs holding one regression value per row. */
function values(...ys: number[]): RowsOutput {
  return new Map([["y", { dtype: "float32", shape: [ys.length, 1], data: new Float32Array(ys).buffer }]]);
}

function target(alias: string, model: LoadedModel | undefined): ShadowTarget {
  const manager = {
    resolve: () => {
      if (model === undefined) throw new Error("not loaded");
      return model;
    },
  } as Partial<ModelManager> as ModelManager;
  return { alias, manager };
}

const input: RowsInput = { data: new Float32Array([1, 2]), rows: 2 };

async function outcomes(metrics: ReturnType<typeof createInferenceMetrics>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metrics.shadowRequests.get()).values) out[`${v.labels.alias}:${v.labels.outcome}`] = v.value;
  return out;
}

describe("shadow mirror", () => {
  const primary = version(1, () => Promise.reject(new Error("the primary is never called")));

  it("starts after the current turn and counts agreement, disagreement and errors by alias", async () => {
    const metrics = createInferenceMetrics();
    const mirror = createShadowMirror({ metrics, gatherMs: 0 });
    const calls: string[] = [];
    const same = version(1, async () => {
      calls.push("same");
      return values(1.5, 2.5);
    });
    const other = version(1, async () => {
      calls.push("other");
      return values(1.5, 9);
    });
    const broken = version(1, () => Promise.reject(new Error("boom")));
    const wider = version(3, () => Promise.reject(new Error("never called: other inputs")));
    mirror.offer({ model: "m", primary, outputs: values(1.5, 2.5), input }, [
      target("same", same),
      target("other", other),
      target("broken", broken),
      target("wider", wider),
      target("unloaded", undefined),
    ]);
    expect(calls).toEqual([]);
    expect(mirror.pending).toBe(5);
    for (let i = 0; i < 100 && mirror.pending > 0; i++) await nextTurn();
    expect(calls).toEqual(["same", "other"]);
    expect(await outcomes(metrics)).toEqual({
      "same:agree": 1,
      "other:disagree": 1,
      "broken:error": 1,
      "wider:error": 1,
      "unloaded:error": 1,
    });
    const latency = (await metrics.shadowLatency.get()).values.filter(
      (v) => v.metricName === "shadow_latency_seconds_count",
    );
    expect(latency.map((v) => [v.labels.alias, v.value])).toEqual([
      ["same", 1],
      ["other", 1],
    ]);
  });

  it("drops mirrors beyond its queue and runs at most `concurrency` at once", async () => {
    const metrics = createInferenceMetrics();
    const mirror = createShadowMirror({ metrics, maxQueued: 3, concurrency: 2, gatherMs: 0 });
    let running = 0;
    let most = 0;
    const release: (() => void)[] = [];
    const slow = version(1, async () => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => release.push(resolve));
      running--;
      return values(1.5, 2.5);
    });
    for (let i = 0; i < 5; i++)
      mirror.offer({ model: "m", primary, outputs: values(1.5, 2.5), input }, [target("slow", slow)]);
    expect(await outcomes(metrics)).toEqual({ "slow:dropped": 2 });
    for (let i = 0; i < 100 && release.length < 2; i++) await nextTurn();
    expect(release).toHaveLength(2);
    expect(mirror.pending).toBe(3);
    for (const r of release.splice(0)) r();
    for (let i = 0; i < 100 && release.length < 1; i++) await nextTurn();
    for (const r of release.splice(0)) r();
    for (let i = 0; i < 100 && mirror.pending > 0; i++) await nextTurn();
    expect(most).toBe(2);
    expect(await outcomes(metrics)).toEqual({ "slow:dropped": 2, "slow:agree": 3 });
  });

  it("gathers mirrors and starts them together, at once when `concurrency` of them wait", async () => {
    const metrics = createInferenceMetrics();
    const mirror = createShadowMirror({ metrics, concurrency: 3, gatherMs: 60_000 });
    // Submits made in one synchronous pass (one batch for the shadow's batcher) share a generation.
    let generation = 0;
    const submits: number[] = [];
    const same = version(1, async () => {
      if (submits.length === 0) queueMicrotask(() => generation++);
      submits.push(generation);
      return values(1.5, 2.5);
    });
    const offer = () => mirror.offer({ model: "m", primary, outputs: values(1.5, 2.5), input }, [target("same", same)]);
    offer();
    offer();
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(submits).toEqual([]);
    expect(mirror.pending).toBe(2);
    offer();
    for (let i = 0; i < 100 && mirror.pending > 0; i++) await nextTurn();
    expect(submits).toEqual([0, 0, 0]);
    expect(await outcomes(metrics)).toEqual({ "same:agree": 3 });
  });

  it("starts a lone mirror once its gathering time is over", async () => {
    const metrics = createInferenceMetrics();
    const mirror = createShadowMirror({ metrics, gatherMs: 20 });
    const same = version(1, async () => values(1.5, 2.5));
    mirror.offer({ model: "m", primary, outputs: values(1.5, 2.5), input }, [target("same", same)]);
    const deadline = performance.now() + 10_000;
    while (mirror.pending > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(await outcomes(metrics)).toEqual({ "same:agree": 1 });
  });

  it("drops what is queued when closed, and everything offered after", async () => {
    const metrics = createInferenceMetrics();
    const mirror = createShadowMirror({ metrics });
    const same = version(1, async () => values(1.5, 2.5));
    mirror.offer({ model: "m", primary, outputs: values(1.5, 2.5), input }, [target("same", same)]);
    await mirror.close();
    mirror.offer({ model: "m", primary, outputs: values(1.5, 2.5), input }, [target("same", same)]);
    expect(await outcomes(metrics)).toEqual({ "same:dropped": 2 });
  });
});
