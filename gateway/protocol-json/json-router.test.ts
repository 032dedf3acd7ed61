import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commonErrors } from "../../core/errors/index.js";
import { createLogger } from "../../core/logger.js";
import { sendJson } from "./json-response.js";
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
    "/bug": {
      GET: () => {
        throw new TypeError("x is undefined");
      },
    },
  },
});
/** What the router left alone answers 299, so the test sees it was passed on. */
const server = createServer((req, res) => {
  if (!router(req, res)) sendJson(res, 299, { passed: req.url });
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
});
