import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { endStreamFlag } from "@connectrpc/connect/protocol-connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, commonErrors, inferenceErrors } from "../../core/errors/index.js";
import { parseContentType } from "./content-type.js";
import { type EncodedError, encodeError, rpcErrorWire, sendEncodedError } from "./error-response.js";

const overloaded = inferenceErrors.overloaded("too many requests in flight");

describe("rpcErrorWire", () => {
  it.each([
    ["application/grpc", "grpc"],
    ["application/grpc-web+proto", "grpc_web"],
    ["application/connect+json", "connect_stream"],
    ["application/json", "connect_unary"],
    ["application/proto", "connect_unary"],
    ["text/plain", "connect_unary"],
  ])("%s is answered as %s", (contentType, wire) => {
    expect(rpcErrorWire(parseContentType(contentType))).toBe(wire);
  });
});

describe("encodeError", () => {
  it("json: the status of httpStatusOf and the JSON error body", () => {
    const encoded = encodeError(commonErrors.requestTooLarge(8), "json");
    expect(encoded.status).toBe(413);
    expect(JSON.parse(Buffer.from(encoded.body ?? []).toString())).toEqual({
      error: {
        code: "resource_exhausted",
        id: "REQUEST_TOO_LARGE",
        message: "request too large: the limit is 8 bytes",
      },
    });
    expect(encoded.headers["content-length"]).toBe(String(encoded.body?.byteLength));
  });

  it("grpc and grpc_web: trailers-only, the status in the headers, the gRPC code overridable", () => {
    for (const wire of ["grpc", "grpc_web"] as const) {
      const encoded = encodeError(overloaded, wire);
      expect(encoded).toMatchObject({ status: 200, body: undefined });
      expect(encoded.headers["grpc-status"]).toBe(String(Code.ResourceExhausted));
      expect(encoded.headers["grpc-status-details-bin"]).toBeTruthy();
    }
    const unknown = encodeError(commonErrors.notFoundRoute("/a.B/C"), "grpc", Code.Unimplemented);
    expect(unknown.headers["grpc-status"]).toBe(String(Code.Unimplemented));
  });

  it("connect_unary: the code's status and the Connect JSON error", () => {
    const encoded = encodeError(overloaded, "connect_unary");
    expect(encoded.status).toBe(429);
    expect(JSON.parse(Buffer.from(encoded.body ?? []).toString())).toMatchObject({ code: "resource_exhausted" });
  });

  it("connect_stream: HTTP 200 and one end-of-stream frame", () => {
    const encoded = encodeError(overloaded, "connect_stream");
    expect(encoded.status).toBe(200);
    expect(encoded.body?.[0]).toBe(endStreamFlag);
    expect(encoded.headers["content-length"]).toBe(String(encoded.body?.byteLength));
  });
});

describe("sendEncodedError over HTTP/2", () => {
  let encoded: EncodedError;
  const server = http2.createServer((_req, res) => sendEncodedError(res, encoded, "application/grpc"));
  let url = "";

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** One request: the response headers, whether trailers came, and the body. */
  function call(): Promise<{ headers: http2.IncomingHttpHeaders; trailers: boolean; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const session = http2.connect(url);
      session.on("error", reject);
      const stream = session.request({ ":method": "POST", ":path": "/x", "content-type": "application/grpc" });
      let headers: http2.IncomingHttpHeaders = {};
      let trailers = false;
      const body: Buffer[] = [];
      stream.on("response", (h) => {
        headers = h;
      });
      stream.on("trailers", () => {
        trailers = true;
      });
      stream.on("data", (c: Buffer) => body.push(c));
      stream.on("close", () => {
        session.close();
        resolve({ headers, trailers, body: Buffer.concat(body) });
      });
      stream.end();
    });
  }

  it("sends a trailers-only response as one HEADERS frame ending the stream, with the request's content type", async () => {
    encoded = encodeError(overloaded, "grpc");
    const res = await call();
    expect(res.headers[":status"]).toBe(200);
    expect(res.headers["content-type"]).toBe("application/grpc");
    expect(res.headers["grpc-status"]).toBe(String(Code.ResourceExhausted));
    expect(res.trailers).toBe(false);
    expect(res.body.byteLength).toBe(0);
  });

  it("sends a body with the encoding's own content type", async () => {
    encoded = encodeError(overloaded, "json");
    const res = await call();
    expect(res.headers[":status"]).toBe(429);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(res.body.toString())).toMatchObject({ error: { id: "INFERENCE_OVERLOADED" } });
  });
});
