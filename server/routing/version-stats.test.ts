import { describe, expect, it } from "vitest";
import { createVersionStatsBook, latencyBoundsMs } from "./version-stats.js";

describe("version stats book", () => {
  it("counts requests, errors and latency buckets per version, and takes them once", () => {
    const book = createVersionStatsBook();
    const v1 = book.tally("iris", "1");
    expect(book.tally("iris", "1")).toBe(v1);
    v1.ok(0.1);
    v1.ok(0.25);
    v1.ok(3);
    v1.ok(60_000);
    v1.failed();
    book.tally("iris", "2").ok(1);
    book.tally("other", "1").failed();

    const taken = book.take("iris");
    expect(taken.map((s) => s.version)).toEqual(["1", "2"]);
    const [first] = taken;
    expect(first).toMatchObject({ requests: 5, errors: 1 });
    const counts = first?.latencyCounts ?? [];
    expect(counts).toHaveLength(latencyBoundsMs.length + 1);
    // 0.1 and 0.25 in the first bucket (<= 0.25 ms), 3 ms in the one up to 5 ms, 60 s above the last bound.
    expect(counts[0]).toBe(2);
    expect(counts[latencyBoundsMs.indexOf(5)]).toBe(1);
    expect(counts[latencyBoundsMs.length]).toBe(1);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(4);

    // Taken: nothing more until new requests, and the same tally keeps counting.
    expect(book.take("iris")).toEqual([]);
    v1.ok(1);
    expect(book.take("iris")).toMatchObject([{ version: "1", requests: 1, errors: 0 }]);
    expect(book.take("other")).toMatchObject([{ version: "1", requests: 1, errors: 1 }]);
    expect(book.take("unknown")).toEqual([]);
  });
});
