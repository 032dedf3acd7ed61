import { describe, expect, it } from "vitest";
import { parseContentType } from "./content-type.js";

describe("parseContentType", () => {
  it.each([
    ["application/grpc", { protocol: "grpc", enveloped: true, codec: "proto", text: false }],
    ["application/grpc+proto", { protocol: "grpc", enveloped: true, codec: "proto", text: false }],
    ["application/grpc+json", { protocol: "grpc", enveloped: true, codec: "json", text: false }],
    ["application/grpc; charset=utf-8", { protocol: "grpc", enveloped: true, codec: "proto", text: false }],
    ["Application/GRPC+Proto", { protocol: "grpc", enveloped: true, codec: "proto", text: false }],
    ["application/grpc-web", { protocol: "grpc_web", enveloped: true, codec: "proto", text: false }],
    ["application/grpc-web+proto", { protocol: "grpc_web", enveloped: true, codec: "proto", text: false }],
    ["application/grpc-web+json", { protocol: "grpc_web", enveloped: true, codec: "json", text: false }],
    ["application/grpc-web-text+proto", { protocol: "grpc_web", enveloped: true, codec: "proto", text: true }],
    ["application/connect+json", { protocol: "connect", enveloped: true, codec: "json", text: false }],
    ["application/connect+proto", { protocol: "connect", enveloped: true, codec: "proto", text: false }],
    ["application/json", { protocol: "connect", enveloped: false, codec: "json", text: false }],
    ["application/json; charset=utf-8", { protocol: "connect", enveloped: false, codec: "json", text: false }],
    ["application/proto", { protocol: "connect", enveloped: false, codec: "proto", text: false }],
  ])("%s", (value, expected) => {
    expect(parseContentType(value)).toEqual(expected);
  });

  it.each([
    [undefined],
    [""],
    ["text/plain"],
    ["application/x-www-form-urlencoded"],
    ["application/connect"],
    ["application/grpcx"],
    ["application/jsonp"],
    ["multipart/form-data; boundary=application/grpc"],
  ])("%s names no RPC protocol", (value) => {
    expect(parseContentType(value)).toBeUndefined();
  });

  it("answers a repeated value from memory with the same frozen object", () => {
    const first = parseContentType("application/grpc+proto");
    expect(parseContentType("application/grpc+proto")).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it("still parses values beyond its memory", () => {
    for (let i = 0; i < 100; i++) {
      expect(parseContentType(`application/grpc+codec${i}`)?.codec).toBe(`codec${i}`);
    }
  });
});
