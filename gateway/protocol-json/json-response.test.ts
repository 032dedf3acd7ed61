import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commonErrors, inferenceErrors, type MlpipeError } from "../../core/errors/index.js";
import { sendJson, sendJsonError } from "./json-response.js";

/** A real server whose handler is the test's, per path. */
const handlers = new Map<string, (res: ServerResponse) => void>();
const server = createServer((req, res) => handlers.get(req.url ?? "")?.(res));
let base = "";

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function answer(path: string, handler: (res: ServerResponse) => void) {
  handlers.set(path, handler);
  const res = await fetch(`${base}${path}`);
  return { status: res.status, headers: res.headers, body: await res.json() };
}

describe("sendJson", () => {
  it("sends the body with its type and length", async () => {
    const res = await answer("/ok", (r) => sendJson(r, 201, { ü: 1 }, { "x-extra": "yes" }));
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("content-length")).toBe(String(Buffer.byteLength('{"ü":1}')));
    expect(res.headers.get("x-extra")).toBe("yes");
    expect(res.body).toEqual({ ü: 1 });
  });
});

describe("sendJsonError", () => {
  const cases: [string, MlpipeError, number, Record<string, string | null>][] = [
    ["/invalid", commonErrors.invalidArgument("features", "bad"), 400, { "retry-after": null }],
    ["/too-large", commonErrors.requestTooLarge(10), 413, { connection: "close" }],
    ["/queue-full", inferenceErrors.queueFull(5), 429, { "retry-after": "1" }],
    ["/draining", inferenceErrors.shuttingDown(), 503, { "retry-after": "1" }],
    ["/missing", commonErrors.notFoundRoute("/x"), 404, {}],
  ];
  it.each(cases)("%s", async (path, err, status, headers) => {
    const res = await answer(path, (r) => sendJsonError(r, err));
    expect(res.status).toBe(status);
    for (const [name, value] of Object.entries(headers)) expect(res.headers.get(name)).toBe(value);
    expect(res.body).toEqual({
      error: { code: expect.any(String), id: err.id, message: err.message, ...(err.field ? { field: err.field } : {}) },
    });
  });
});
