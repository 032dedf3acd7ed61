import { describe, expect, it } from "vitest";
import { FrameReader, plainBytes } from "./frame-reader.js";
import { messagePrefix } from "./message-prefix.js";

/** A length-prefixed message with `flags`. */
function frame(payload: string, flags = 0): Buffer {
  const bytes = Buffer.from(payload);
  const prefix = messagePrefix(bytes.length);
  prefix[0] = flags;
  return Buffer.concat([prefix, bytes]);
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

describe("FrameReader", () => {
  it("reads several messages from one chunk, in order, with their compression flag", () => {
    const reader = new FrameReader(100);
    const frames = reader.push(Buffer.concat([frame("one"), frame("two", 1), frame("")]));
    expect(frames.map((f) => [text(f.payload), f.compressed])).toEqual([
      ["one", false],
      ["two", true],
      ["", false],
    ]);
    expect(reader.partial).toBe(false);
  });

  it("reads a message split at every byte, the prefix included", () => {
    const reader = new FrameReader(100);
    const bytes = Buffer.concat([frame("hello"), frame("world")]);
    const read: string[] = [];
    for (let i = 0; i < bytes.length; i++) {
      for (const f of reader.push(bytes.subarray(i, i + 1))) read.push(text(f.payload));
      // Mid-message after the first byte of each message, whole after its last.
      if (i === 0 || i === 10) expect(reader.partial).toBe(true);
    }
    expect(read).toEqual(["hello", "world"]);
    expect(reader.partial).toBe(false);
  });

  it("keeps the rest of a chunk that ends inside the next message", () => {
    const reader = new FrameReader(100);
    const second = frame("second");
    expect(reader.push(Buffer.concat([frame("first"), second.subarray(0, 7)])).map((f) => text(f.payload))).toEqual([
      "first",
    ]);
    expect(reader.partial).toBe(true);
    expect(reader.push(second.subarray(7)).map((f) => text(f.payload))).toEqual(["second"]);
  });

  it("refuses a prefix announcing more than the limit before the payload arrives", () => {
    const reader = new FrameReader(16);
    expect(() => reader.push(Buffer.from([0, 0x7f, 0, 0, 0]))).toThrow(
      expect.objectContaining({ id: "REQUEST_TOO_LARGE" }),
    );
    // Also when the prefix itself arrives in pieces.
    const split = new FrameReader(16);
    expect(split.push(Buffer.from([0, 0, 0]))).toEqual([]);
    expect(() => split.push(Buffer.from([0, 17]))).toThrow(expect.objectContaining({ id: "REQUEST_TOO_LARGE" }));
  });

  it("accepts a message of exactly the limit", () => {
    expect(new FrameReader(5).push(frame("12345")).map((f) => text(f.payload))).toEqual(["12345"]);
  });

  it("hands out plain Uint8Arrays, not Buffers", () => {
    const [f] = new FrameReader(100).push(frame("abc"));
    expect(f?.payload).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(f?.payload)).toBe(false);
    expect(Buffer.isBuffer(plainBytes(Buffer.from("x")))).toBe(false);
  });
});

describe("messagePrefix", () => {
  it("is flags 0 and the big-endian length", () => {
    expect([...messagePrefix(0x01020304)]).toEqual([0, 1, 2, 3, 4]);
  });
});
