import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PredictRequestSchema } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { readMessage } from "./read-message.js";

const bytes = toBinary(PredictRequestSchema, create(PredictRequestSchema, { features: [1, 2], modelVersion: "3" }));

describe("readMessage", () => {
  it("parses an uncompressed message at once, without a promise", () => {
    const message = readMessage(PredictRequestSchema, { compressed: false, payload: bytes }, undefined, 1000);
    expect(message).not.toBeInstanceOf(Promise);
    expect(message).toMatchObject({ features: [1, 2], modelVersion: "3" });
  });

  it("parses a compressed one once decompressed", async () => {
    const message = readMessage(PredictRequestSchema, { compressed: true, payload: gzipSync(bytes) }, "gzip", 1000);
    expect(message).toBeInstanceOf(Promise);
    expect(await message).toMatchObject({ features: [1, 2], modelVersion: "3" });
  });

  it("answers bytes that are not the message with INVALID_ARGUMENT naming its type", () => {
    expect(() =>
      readMessage(PredictRequestSchema, { compressed: false, payload: new Uint8Array([0xff, 0xff]) }, undefined, 9),
    ).toThrow(
      expect.objectContaining({
        id: "INVALID_ARGUMENT",
        field: "request",
        message: expect.stringContaining("not a valid mlpipe.inference.v1.PredictRequest message"),
      }),
    );
  });
});
