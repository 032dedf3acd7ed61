import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commonErrors } from "../../core/errors/index.js";
import { createLogger } from "../../core/logger.js";
import { jsonErrorEncoder, sendJson } from "./json-response.js";
import { createJsonRouter } from "./json-router.js";

const router = createJsonRouter({
  logger: createLogger({ level: "silent", name: "test" }),
  routes: {
    "/hello": { GET: (_req, res) => sendJson(res, 200, { hello: "world" }) },
    "/echo": {
      POST: async (req, res) => {
        let body = "";
        for await (const chunk of req) body += String(chunk);
        sendJson(res, 201, { got: body });
      },
    },
    "/refuse": { GET: () => Promise.reject(commonErrors.invalidArgument("q", "must be set")) },
    "/models/{name}": { GET: (_req, res, params) => sendJson(res, 200, { route: "model", ...params }) },
    "/models/{name}/versions/{version}/infer": {
      POST: (_req, res, params) => sendJson(res, 200, { route: "infer", ...params }),
    },
    "/models/ready": { GET: (_req, res, params) => sendJson(res, 200, { route: "exact", ...params }) },
    "/bug": {
      GET: () => {
        throw new TypeError("x is undefined");
      },
    },
    "/files/*": { GET: (req, res) => sendJson(res, 200, { file: req.url }) },
    "/files/special/*": { GET: (_req, res) => sendJson(res, 200, { special: true }) },
  },
});

/** A router in another JSON dialect that answers every path under its prefix itself. */
const dialect = createJsonRouter({
  logger: createLogger({ level: "silent", name: "test" }),
  routes: { "/api/x/ping": { GET: (_req, res) => sendJson(res, 200, { pong: true }) } },
  ownedPrefixes: ["/api/x/"],
  encodeError: (err) => {
    const body = Buffer.from(JSON.stringify({ error_code: err.id, text: err.message }));
    return { status: 418, headers: { "content-type": "application/json" }, body };
  },
});
/** The same kind of routes answering errors in a dialect of their own body. */
const bodyDialect = createJsonRouter({
  logger: createLogger({ level: "silent", name: "test" }),
  encodeError: jsonErrorEncoder((err) => ({ error: err.message })),
  routes: { "/v2/{name}": { GET: () => Promise.reject(commonErrors.invalidArgument("q", "must be set")) } },
});
/** What the router left alone answers 299, so the test sees it was passed on. */
const server = createServer((req, res) => {
  if (!router(req, res) && !dialect(req, res) && !bodyDialect(req, res)) sendJson(res, 299, { passed: req.url });
});
let base = "";

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function call(path: string, init?: RequestInit) {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>) };
}

describe("createJsonRouter", () => {
  it("answers its paths by method, the query aside, and HEAD with the GET handler", async () => {
    expect(await call("/hello?x=1")).toEqual({ status: 200, body: { hello: "world" } });
    const json = { "content-type": "application/json" };
    expect(await call("/echo", { method: "POST", body: "abc", headers: json })).toEqual({
      status: 201,
      body: { got: "abc" },
    });
    const withCharset = { "content-type": "application/json; charset=utf-8" };
    expect((await call("/echo", { method: "POST", body: "{}", headers: withCharset })).status).toBe(201);
    expect((await call("/hello", { method: "HEAD" })).status).toBe(200);
  });

  it("passes on paths it does not have, and RPC calls even on its own paths", async () => {
    expect(await call("/other")).toEqual({ status: 299, body: { passed: "/other" } });
    const grpcWeb = await call("/hello", { method: "POST", headers: { "content-type": "application/grpc-web+proto" } });
    expect(grpcWeb.status).toBe(299);
  });

  it("answers a body that is not declared JSON with 415, unread (issue 13: no cross-origin post without preflight)", async () => {
    const cases: (Record<string, string> | undefined)[] = [
      { "content-type": "text/plain" },
      { "content-type": "application/x-www-form-urlencoded" },
      { "content-type": "multipart/form-data; boundary=x" },
      { "content-type": "application/proto" },
      undefined,
    ];
    for (const headers of cases) {
      // fetch adds text/plain to a string body; a Uint8Array body goes without a content type.
      const body = headers === undefined ? new TextEncoder().encode("{}") : "{}";
      const res = await call("/echo", { method: "POST", body, ...(headers === undefined ? {} : { headers }) });
      expect(res.status, JSON.stringify(headers)).toBe(415);
      expect(res.body?.error).toMatchObject({
        code: "invalid_argument",
        id: "UNSUPPORTED_MEDIA_TYPE",
        field: "content-type",
      });
    }
    // A GET carries no body: its content type does not matter.
    expect((await call("/hello", { headers: { "content-type": "text/plain" } })).status).toBe(200);
  });

  it("answers a method the path lacks with ROUTE_NOT_FOUND", async () => {
    const res = await call("/hello", { method: "DELETE" });
    expect(res.status).toBe(404);
    expect(res.body?.error).toMatchObject({ code: "not_found", id: "ROUTE_NOT_FOUND" });
  });

  it("answers a rejected handler with its error, and a bug with a generic INTERNAL", async () => {
    const refused = await call("/refuse");
    expect(refused.status).toBe(400);
    expect(refused.body?.error).toMatchObject({ code: "invalid_argument", field: "q" });
    const bug = await call("/bug");
    expect(bug.status).toBe(500);
    expect(bug.body?.error).toMatchObject({ code: "internal", message: "internal error" });
  });

  it("serves a `prefix/*` route for every path below it, the longest prefix first", async () => {
    expect(await call("/files/a/b.txt?x=1")).toEqual({ status: 200, body: { file: "/files/a/b.txt?x=1" } });
    expect(await call("/files/special/c")).toEqual({ status: 200, body: { special: true } });
    expect(await call("/files")).toEqual({ status: 299, body: { passed: "/files" } });
  });

  it("answers every path under an owned prefix itself, in its dialect's error encoding", async () => {
    expect(await call("/api/x/ping")).toEqual({ status: 200, body: { pong: true } });
    expect(await call("/api/x/unknown")).toEqual({
      status: 418,
      body: { error_code: "ROUTE_NOT_FOUND", text: expect.stringContaining("/api/x/unknown") },
    });
    expect((await call("/api/x/ping", { method: "POST" })).body).toMatchObject({ error_code: "ROUTE_NOT_FOUND" });
    expect(await call("/api/y/ping")).toEqual({ status: 299, body: { passed: "/api/y/ping" } });
  });

  it("matches path parameters, one whole non-empty segment each, percent-decoded", async () => {
    expect(await call("/models/iris")).toEqual({ status: 200, body: { route: "model", name: "iris" } });
    expect(await call("/models/my%20model?x=1")).toEqual({ status: 200, body: { route: "model", name: "my model" } });
    // A POST declares its JSON body (the 415 rule of the router comes first).
    const post = { method: "POST", headers: { "content-type": "application/json" } };
    expect(await call("/models/iris/versions/Production/infer", post)).toEqual({
      status: 200,
      body: { route: "infer", name: "iris", version: "Production" },
    });
    expect((await call("/models/")).status).toBe(299);
    expect((await call("/models/iris/versions//infer", post)).status).toBe(299);
    expect((await call("/models/a/b")).status).toBe(299);
    const badEncoding = await call("/models/%E0%A4%A");
    expect(badEncoding.status).toBe(400);
    expect(badEncoding.body?.error).toMatchObject({ code: "invalid_argument", field: "name" });
  });

  it("prefers an exact path over a pattern that matches it too", async () => {
    expect(await call("/models/ready")).toEqual({ status: 200, body: { route: "exact" } });
  });

  it("answers a pattern's missing method with ROUTE_NOT_FOUND, and a dialect's errors in its own body", async () => {
    const res = await call("/models/iris", { method: "POST" });
    expect(res.status).toBe(404);
    expect(res.body?.error).toMatchObject({ id: "ROUTE_NOT_FOUND" });
    expect(await call("/v2/iris")).toEqual({ status: 400, body: { error: "invalid q: must be set" } });
  });
});
