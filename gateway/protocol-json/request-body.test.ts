import { IncomingMessage } from "node:http";
import { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { parseJsonObject, readBody, receiveBody } from "./request-body.js";

/** A request whose body is `chunks`, with `headers`; `fail` makes it error after the chunks. */
function request(chunks: readonly string[], headers: Record<string, string> = {}, fail = false): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.headers = headers;
  setImmediate(() => {
    for (const c of chunks) req.push(Buffer.from(c));
    if (fail) req.destroy(new Error("socket hang up"));
    else req.push(null);
  });
  return req;
}

describe("readBody", () => {
  it("joins the chunks of a body within the limit", async () => {
    expect((await readBody(request(['{"a":', " 1}"]), 8)).toString()).toBe('{"a": 1}');
  });

  it("refuses a declared Content-Length over the limit before reading", async () => {
    await expect(readBody(request(["x"], { "content-length": "9" }), 8)).rejects.toMatchObject({
      id: "REQUEST_TOO_LARGE",
      message: "request too large: the limit is 8 bytes",
    });
  });

  it("refuses a body that grows over the limit without a Content-Length", async () => {
    await expect(readBody(request(["12345", "6789"]), 8)).rejects.toMatchObject({ id: "REQUEST_TOO_LARGE" });
  });

  it("is CANCELED when the request fails mid-body", async () => {
    await expect(readBody(request(["12"], {}, true), 8)).rejects.toMatchObject({ id: "CANCELED" });
  });

  it("is REQUEST_TIMEOUT when the body does not end within the timeout", async () => {
    const req = new IncomingMessage(new Socket());
    req.headers = {};
    setImmediate(() => req.push(Buffer.from('{"a":')));
    await expect(readBody(req, 64, 20)).rejects.toMatchObject({
      id: "REQUEST_TIMEOUT",
      message: "the request was not received within 20 ms",
    });
  });
});

describe("receiveBody", () => {
  it("reads a body once: a second call gets the bytes already read", async () => {
    const req = request(['{"a":', " 1}"]);
    const limits = { maxBytes: 64, timeoutMs: 1000 };
    const first = receiveBody(req, limits);
    expect(receiveBody(req, limits)).toBe(first);
    expect((await first).toString()).toBe('{"a": 1}');
    expect((await receiveBody(req, limits)).toString()).toBe('{"a": 1}');
  });
});

describe("parseJsonObject", () => {
  it("parses an object", () => {
    expect(parseJsonObject(Buffer.from('{"features": [1, 2]}'), "an object")).toEqual({ features: [1, 2] });
  });

  it("answers malformed JSON with the parser's reason", () => {
    expect(() => parseJsonObject(Buffer.from("{"), "an object")).toThrow(
      expect.objectContaining({
        id: "INVALID_ARGUMENT",
        field: "body",
        message: expect.stringMatching(/^invalid body: malformed JSON \(.+\)$/),
      }),
    );
  });

  it.each([["[]"], ["null"], ["3"], ['"text"']])("refuses %s, which is not an object", (text) => {
    expect(() => parseJsonObject(Buffer.from(text), 'a JSON object with "features"')).toThrow(
      expect.objectContaining({ field: "body", message: 'invalid body: must be a JSON object with "features"' }),
    );
  });
});
