import { once } from "node:events";
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../core/logger.js";
import { type DualProtocolHandler, type DualProtocolServer, listenDualProtocol } from "./dual-protocol-server.js";

const logger = createLogger({ level: "silent" });

/** Requests to /hold/<name> wait until release(name) is called; everything else answers at once. */
function createTestHandler() {
  const held = new Map<string, () => void>();
  const waiting = new Map<string, () => void>();
  const handler: DualProtocolHandler = (req, res) => {
    const reply = () => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ httpVersion: req.httpVersion, url: req.url, remotePort: req.socket.remotePort }));
    };
    const name = /^\/hold\/(\w+)$/.exec(req.url ?? "")?.[1];
    if (name === undefined) {
      // Read the body first so echo-style requests with a body work too.
      req.resume();
      req.once("end", reply);
      return;
    }
    held.set(name, reply);
    waiting.get(name)?.();
  };
  return {
    handler,
    /** Resolves once the request /hold/<name> reached the handler. */
    arrived: (name: string) =>
      held.has(name) ? Promise.resolve() : new Promise<void>((resolve) => waiting.set(name, resolve)),
    release: (name: string) => held.get(name)?.(),
  };
}

/** Sends raw bytes on a fresh connection and collects everything until the server closes it. */
async function rawExchange(port: number, chunks: readonly string[]): Promise<string> {
  const socket = net.connect(port, "127.0.0.1");
  await once(socket, "connect");
  let received = "";
  socket.on("data", (d: Buffer) => {
    received += d.toString("latin1");
  });
  for (const chunk of chunks) {
    socket.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await once(socket, "close");
  return received;
}

function h1Get(port: number, path: string, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, ...(agent === undefined ? {} : { agent }) }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
}

function h2Get(session: http2.ClientHttp2Session, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":path": path, ":method": "GET" });
    let status = 0;
    let body = "";
    stream.setEncoding("utf8");
    stream.on("response", (headers) => {
      status = Number(headers[":status"]);
    });
    stream.on("data", (d: string) => {
      body += d;
    });
    stream.on("end", () =>
      status === 0 ? reject(new Error("stream ended without a response")) : resolve({ status, body }),
    );
    stream.on("error", reject);
  });
}

describe("listenDualProtocol", () => {
  const t = createTestHandler();
  let server: DualProtocolServer;

  beforeAll(async () => {
    server = await listenDualProtocol({
      handler: t.handler,
      host: "127.0.0.1",
      port: 0,
      logger,
      firstBytesTimeoutMs: 300,
      headersTimeoutMs: 300,
    });
  });
  afterAll(() => server.close(0));

  it("serves HTTP/1.1 (fetch) and HTTP/2 prior knowledge on the same port", async () => {
    const res = await fetch(`${server.url}/x`);
    expect(await res.json()).toMatchObject({ httpVersion: "1.1", url: "/x" });

    const session = http2.connect(server.url);
    try {
      const r = await h2Get(session, "/y");
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ httpVersion: "2.0", url: "/y" });
    } finally {
      session.close();
    }
  });

  it("keeps HTTP/1.1 connections alive between requests", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const a = JSON.parse((await h1Get(server.port, "/a", agent)).body) as { remotePort: number };
      const b = JSON.parse((await h1Get(server.port, "/b", agent)).body) as { remotePort: number };
      expect(b.remotePort).toBe(a.remotePort);
    } finally {
      agent.destroy();
    }
  });

  it("waits for first bytes that arrive one at a time", async () => {
    const request = "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const reply = await rawExchange(server.port, [...request]);
    expect(reply).toMatch(/^HTTP\/1\.1 200 /);
    expect(reply).toContain('"url":"/slow"');
  });

  it("routes a connection that starts like the HTTP/2 preface but diverges to HTTP/1.1", async () => {
    // "PRI" is a prefix of the preface; the HTTP/1.1 parser then rejects the unknown method.
    const reply = await rawExchange(server.port, ["PRI", " / HTTP/1.1\r\nHost: x\r\n\r\n"]);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
  });

  it("answers garbage with 400 and closes", async () => {
    const reply = await rawExchange(server.port, ["\x16\x03\x01 definitely not http\r\n\r\n"]);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
  });

  it("closes a connection that sends too few bytes to decide", async () => {
    // Half the preface, then silence: the first-bytes timeout closes it without a reply.
    const reply = await rawExchange(server.port, ["PRI * HTTP/2.0\r\n"]);
    expect(reply).toBe("");
  });

  it("answers 408 when HTTP/1.1 headers do not complete in time", async () => {
    const reply = await rawExchange(server.port, ["GET /stalled HTTP/1.1\r\nHost: x\r\n"]);
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("closes a connection that sends nothing", async () => {
    const reply = await rawExchange(server.port, []);
    expect(reply).toBe("");
  });
});

describe("DualProtocolServer.close", () => {
  it("stops accepting, lets in-flight HTTP/1.1 and HTTP/2 requests finish, then resolves", async () => {
    const t = createTestHandler();
    const server = await listenDualProtocol({ handler: t.handler, host: "127.0.0.1", port: 0, logger });
    const session = http2.connect(server.url);
    const h1 = h1Get(server.port, "/hold/one");
    const h2 = h2Get(session, "/hold/two");
    await Promise.all([t.arrived("one"), t.arrived("two")]);

    let closed = false;
    const closing = server.close(60_000).then(() => {
      closed = true;
    });
    // New connections are refused once closing started.
    await expect(fetch(`${server.url}/new`)).rejects.toThrow();
    expect(closed).toBe(false);

    t.release("one");
    t.release("two");
    expect((await h1).status).toBe(200);
    expect((await h2).status).toBe(200);
    await closing;
    expect(closed).toBe(true);
    session.destroy();
  });

  it("destroys requests still running when the grace period ends", async () => {
    const t = createTestHandler();
    const server = await listenDualProtocol({ handler: t.handler, host: "127.0.0.1", port: 0, logger });
    const session = http2.connect(server.url);
    session.on("error", () => {});
    const h1 = h1Get(server.port, "/hold/one");
    const h2 = h2Get(session, "/hold/two");
    await Promise.all([t.arrived("one"), t.arrived("two")]);

    await server.close(50);
    await expect(h1).rejects.toThrow();
    await expect(h2).rejects.toThrow();
    session.destroy();
  });

  it("closes a busy keep-alive connection once its response is done, without waiting for the grace period", async () => {
    const t = createTestHandler();
    const server = await listenDualProtocol({ handler: t.handler, host: "127.0.0.1", port: 0, logger });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await h1Get(server.port, "/warm", agent);
    const held = h1Get(server.port, "/hold/busy", agent);
    await t.arrived("busy");
    let closed = false;
    // A grace period far beyond the test timeout: resolving proves nothing waited for it.
    const closing = server.close(10 * 60_000).then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);
    t.release("busy");
    expect((await held).status).toBe(200);
    await closing;
    agent.destroy();
  });

  it("closes idle keep-alive connections at once", async () => {
    const t = createTestHandler();
    const server = await listenDualProtocol({ handler: t.handler, host: "127.0.0.1", port: 0, logger });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await h1Get(server.port, "/warm", agent);
    const session = http2.connect(server.url);
    await h2Get(session, "/warm");
    const goaway = once(session, "goaway");
    // A grace period far beyond the test timeout: resolving proves nothing waited for it.
    await server.close(10 * 60_000);
    await goaway;
    agent.destroy();
    session.destroy();
  });
});
