import { describe, expect, it } from "vitest";
import { encodeGrpcMessage, respecGrpcMessageTrailer } from "./grpc-message.js";

describe("encodeGrpcMessage", () => {
  it("percent-encodes only what the gRPC spec requires", () => {
    expect(encodeGrpcMessage('no file "a/b:c, d"')).toBe('no file "a/b:c, d"');
    expect(encodeGrpcMessage("100%")).toBe("100%25");
    expect(encodeGrpcMessage("ü\n")).toBe("%C3%BC%0A");
    // What grpc-js does with it.
    expect(decodeURI(encodeGrpcMessage('"a/b" 100% ü'))).toBe('"a/b" 100% ü');
  });
});

describe("respecGrpcMessageTrailer", () => {
  it("re-encodes a grpc-message trailer written with encodeURIComponent", () => {
    const sent: Record<string, unknown>[] = [];
    const res = { addTrailers: (h: Record<string, unknown>) => void sent.push(h) };
    respecGrpcMessageTrailer(res);
    res.addTrailers({ "grpc-status": "5", "grpc-message": encodeURIComponent("no file a/b 100%") });
    res.addTrailers({ "grpc-status": "0" });
    expect(sent).toEqual([{ "grpc-status": "5", "grpc-message": "no file a/b 100%25" }, { "grpc-status": "0" }]);
  });
});
