import { describe, expect, it } from "vitest";
import { downloadChunks } from "./download-chunks.js";

async function* body(...sizes: number[]): AsyncGenerator<Uint8Array> {
  let n = 0;
  for (const size of sizes) yield Uint8Array.from({ length: size }, () => n++ % 256);
}

describe("downloadChunks", () => {
  it("cuts every chunk to at most the limit, keeping the bytes and their order", async () => {
    const out: Uint8Array[] = [];
    for await (const c of downloadChunks(body(10, 0, 3, 7), 4)) out.push(c);
    expect(out.map((c) => c.byteLength)).toEqual([4, 4, 2, 3, 4, 3]);
    expect(Array.from(Buffer.concat(out))).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
