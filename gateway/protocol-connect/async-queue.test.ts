import { describe, expect, it } from "vitest";
import { createAsyncQueue } from "./async-queue.js";

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("createAsyncQueue", () => {
  it("yields items pushed before and while it is iterated, in order, until closed", async () => {
    const queue = createAsyncQueue<number>();
    queue.push(1);
    const done = collect(queue);
    await Promise.resolve();
    queue.push(2);
    setTimeout(() => {
      queue.push(3);
      queue.close();
      queue.push(4);
    }, 1);
    expect(await done).toEqual([1, 2, 3]);
  });

  it("yields what was queued before failing with the close error", async () => {
    const queue = createAsyncQueue<string>();
    const seen: string[] = [];
    queue.push("a");
    queue.push("b");
    queue.close(new Error("input broke"));
    queue.close(new Error("ignored"));
    await expect(
      (async () => {
        for await (const item of queue) seen.push(item);
      })(),
    ).rejects.toThrow("input broke");
    expect(seen).toEqual(["a", "b"]);
  });
});
