import { describe, expect, it } from "vitest";
import { commonErrors, inferenceErrors } from "../../core/errors/index.js";
import { Cancellation, cancelSignalOf } from "./cancellation.js";
import { type BatcherEvents, createDynamicBatcher, type DropReason } from "./dynamic-batcher.js";

/** A fake model run (scheduler edge cases only): records batches; each can be held until released. */
function recorder(hold = false) {
  const batches: string[][] = [];
  const releases: (() => void)[] = [];
  const execute = async (inputs: readonly string[]): Promise<readonly string[]> => {
    batches.push([...inputs]);
    if (hold) await new Promise<void>((r) => releases.push(r));
    return inputs.map((i) => `out:${i}`);
  };
  return { batches, releases, execute };
}

const hour = 3_600_000_000; // µs: "never" for the delay

describe("dynamic batcher", () => {
  it("merges requests arriving together into one batch and answers each in order", async () => {
    const r = recorder();
    const b = createDynamicBatcher({ maxBatchSize: 4, maxQueueDelayUs: hour, maxQueueRows: 100, concurrency: 1, ...r });
    const outs = await Promise.all(["a", "b", "c", "d"].map((input) => b.submit({ rows: 1, input })));
    expect(outs).toEqual(["out:a", "out:b", "out:c", "out:d"]);
    expect(r.batches).toEqual([["a", "b", "c", "d"]]);
  });

  it("dispatches a partial batch once the oldest request waited the delay", async () => {
    const r = recorder();
    const b = createDynamicBatcher({ maxBatchSize: 8, maxQueueDelayUs: 2000, maxQueueRows: 100, concurrency: 1, ...r });
    await Promise.all([b.submit({ rows: 1, input: "a" }), b.submit({ rows: 2, input: "b" })]);
    expect(r.batches).toEqual([["a", "b"]]);
  });

  it("never exceeds maxBatchSize rows and lets batches grow while workers are busy", async () => {
    const r = recorder(true);
    const sizes: number[] = [];
    const b = createDynamicBatcher({
      maxBatchSize: 3,
      maxQueueDelayUs: 0,
      maxQueueRows: 100,
      concurrency: 1,
      execute: r.execute,
      events: { onBatch: (rows) => sizes.push(rows) },
    });
    const first = b.submit({ rows: 1, input: "a" });
    await new Promise((res) => setImmediate(res));
    const rest = ["b", "c", "d", "e"].map((input) => b.submit({ rows: 1, input }));
    expect(b.queuedRows).toBe(4);
    while (r.releases.length > 0 || b.running > 0) {
      r.releases.shift()?.();
      await new Promise((res) => setImmediate(res));
    }
    await Promise.all([first, ...rest]);
    expect(r.batches).toEqual([["a"], ["b", "c", "d"], ["e"]]);
    expect(sizes).toEqual([1, 3, 1]);
  });

  it("with no delay, batches what was queued during one event-loop turn and waits no longer", async () => {
    const r = recorder();
    const b = createDynamicBatcher({ maxBatchSize: 8, maxQueueDelayUs: 0, maxQueueRows: 100, concurrency: 2, ...r });
    const turn1 = ["a", "b", "c"].map((input) => b.submit({ rows: 1, input }));
    await Promise.resolve();
    expect(b.running).toBe(0);
    await new Promise((res) => setImmediate(res));
    expect(r.batches).toEqual([["a", "b", "c"]]);
    const turn2 = ["d", "e"].map((input) => b.submit({ rows: 1, input }));
    // A full batch does not wait for the end of the turn.
    const full = Array.from({ length: 8 }, (_, i) => b.submit({ rows: 1, input: `f${i}` }));
    expect(b.running).toBe(1);
    expect(b.queuedRows).toBe(2);
    expect(await Promise.all([...turn1, ...turn2, ...full])).toEqual(
      ["a", "b", "c", "d", "e", ...Array.from({ length: 8 }, (_, i) => `f${i}`)].map((i) => `out:${i}`),
    );
    expect(r.batches).toEqual([
      ["a", "b", "c"],
      ["d", "e", "f0", "f1", "f2", "f3", "f4", "f5"],
      ["f6", "f7"],
    ]);
  });

  it("with no delay, leaves out of the turn's batch a request canceled before the turn ended", async () => {
    const r = recorder();
    const b = createDynamicBatcher({ maxBatchSize: 8, maxQueueDelayUs: 0, maxQueueRows: 100, concurrency: 1, ...r });
    const gone = new Cancellation();
    const kept = b.submit({ rows: 1, input: "kept" });
    const canceled = b.submit({ rows: 1, input: "gone", signal: gone });
    gone.cancel(commonErrors.canceled());
    await expect(canceled).rejects.toMatchObject({ id: commonErrors.canceled.id });
    expect(await kept).toBe("out:kept");
    expect(r.batches).toEqual([["kept"]]);
  });

  it("fails fast when the queue is full and rejects requests larger than the queue", async () => {
    const r = recorder();
    const b = createDynamicBatcher({ maxBatchSize: 8, maxQueueDelayUs: hour, maxQueueRows: 2, concurrency: 1, ...r });
    const queued = [b.submit({ rows: 1, input: "a" }), b.submit({ rows: 1, input: "b" })];
    await expect(b.submit({ rows: 1, input: "c" })).rejects.toSatisfy((e: unknown) => inferenceErrors.queueFull.is(e));
    await expect(b.submit({ rows: 3, input: "d" })).rejects.toSatisfy((e: unknown) =>
      inferenceErrors.invalidInput.is(e),
    );
    await b.drain();
    await expect(Promise.all(queued)).resolves.toEqual(["out:a", "out:b"]);
    expect(r.batches).toEqual([["a", "b"]]);
  });

  it("drops a request whose deadline passes in the queue without computing it", async () => {
    const r = recorder();
    const drops: DropReason[] = [];
    const events: BatcherEvents = { onDrop: (reason) => drops.push(reason) };
    const b = createDynamicBatcher({
      maxBatchSize: 8,
      maxQueueDelayUs: hour,
      maxQueueRows: 10,
      concurrency: 1,
      ...r,
      events,
    });
    const late = b.submit({ rows: 1, input: "late", deadline: performance.now() + 5 });
    const kept = b.submit({ rows: 1, input: "kept" });
    await expect(late).rejects.toSatisfy((e: unknown) => commonErrors.deadlineExceeded.is(e));
    expect(b.queuedRows).toBe(1);
    await b.drain();
    await expect(kept).resolves.toBe("out:kept");
    expect(r.batches).toEqual([["kept"]]);
    expect(drops).toEqual(["deadline"]);
    await expect(b.submit({ rows: 1, input: "past", deadline: performance.now() - 1 })).rejects.toSatisfy(
      (e: unknown) => commonErrors.deadlineExceeded.is(e),
    );
  });

  it("drops a request whose caller went away while queued", async () => {
    const r = recorder();
    const drops: DropReason[] = [];
    const b = createDynamicBatcher({
      maxBatchSize: 8,
      maxQueueDelayUs: hour,
      maxQueueRows: 10,
      concurrency: 1,
      execute: r.execute,
      events: { onDrop: (reason) => drops.push(reason) },
    });
    const ac = new AbortController();
    const gone = b.submit({ rows: 1, input: "gone", signal: cancelSignalOf(ac.signal) });
    ac.abort();
    const cancellation = new Cancellation();
    const late = b.submit({ rows: 1, input: "late", signal: cancellation });
    cancellation.cancel(commonErrors.deadlineExceeded());
    await expect(gone).rejects.toSatisfy((e: unknown) => commonErrors.canceled.is(e));
    await expect(late).rejects.toSatisfy((e: unknown) => commonErrors.deadlineExceeded.is(e));
    await b.drain();
    expect(r.batches).toEqual([]);
    expect(drops).toEqual(["canceled", "deadline"]);
  });

  it("fails every request of a batch whose run fails, with the run's error", async () => {
    const b = createDynamicBatcher<string, string>({
      maxBatchSize: 2,
      maxQueueDelayUs: hour,
      maxQueueRows: 10,
      concurrency: 1,
      execute: () => Promise.reject(inferenceErrors.workerFailed()),
    });
    const all = await Promise.allSettled([b.submit({ rows: 1, input: "a" }), b.submit({ rows: 1, input: "b" })]);
    for (const s of all) {
      expect(s.status).toBe("rejected");
      if (s.status === "rejected") expect(inferenceErrors.workerFailed.is(s.reason)).toBe(true);
    }
  });
});
