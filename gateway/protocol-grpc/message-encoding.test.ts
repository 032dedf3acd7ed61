import { deflateSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decompressFrame, requestEncoding } from "./message-encoding.js";

const payload = Buffer.from("a protobuf message, say");

describe("requestEncoding", () => {
  it("is undefined for identity or no header, the name for gzip and deflate", () => {
    expect(requestEncoding(undefined)).toBeUndefined();
    expect(requestEncoding("identity")).toBeUndefined();
    expect(requestEncoding("gzip")).toBe("gzip");
    expect(requestEncoding("deflate")).toBe("deflate");
  });

  it("refuses other encodings with UNSUPPORTED_ENCODING", () => {
    expect(() => requestEncoding("snappy")).toThrow(
      expect.objectContaining({
        id: "UNSUPPORTED_ENCODING",
        message: expect.stringContaining("identity,gzip,deflate"),
      }),
    );
  });
});

describe("decompressFrame", () => {
  it("passes an uncompressed payload through", async () => {
    expect(await decompressFrame({ compressed: false, payload }, "gzip", 100)).toBe(payload);
  });

  it("decompresses gzip and deflate", async () => {
    for (const [encoding, bytes] of [
      ["gzip", gzipSync(payload)],
      ["deflate", deflateSync(payload)],
    ] as const) {
      const out = await decompressFrame({ compressed: true, payload: bytes }, encoding, 100);
      expect(Buffer.from(out).toString()).toBe(payload.toString());
      expect(Buffer.isBuffer(out)).toBe(false);
    }
  });

  it("refuses a compressed message without an encoding", async () => {
    await expect(
      decompressFrame({ compressed: true, payload: gzipSync(payload) }, undefined, 100),
    ).rejects.toMatchObject({ id: "INVALID_ARGUMENT", field: "request" });
  });

  it("refuses bytes that do not decompress", async () => {
    await expect(decompressFrame({ compressed: true, payload }, "gzip", 100)).rejects.toMatchObject({
      id: "INVALID_ARGUMENT",
      message: expect.stringContaining("cannot be decompressed"),
    });
  });

  it("refuses a message that inflates beyond the limit", async () => {
    await expect(
      decompressFrame({ compressed: true, payload: gzipSync(Buffer.alloc(1000)) }, "gzip", 999),
    ).rejects.toMatchObject({ id: "REQUEST_TOO_LARGE" });
  });
});
