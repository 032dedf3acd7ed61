import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http2 from "node:http2";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../core/logger.js";
import { captureLog } from "../../test/support/captured-log.js";
import {
  generateTestCertificates,
  type TestCertificates,
  writeServerFiles,
} from "../../test/support/test-certificates.js";
import { type DualProtocolHandler, type DualProtocolServer, listenDualProtocol } from "./dual-protocol-server.js";

/** Answers with the HTTP version, the path and the verified client certificate's CN (if any). */
const handler: DualProtocolHandler = (req, res) => {
  const socket = (
    req.httpVersionMajor === 2
      ? (req as { stream?: { session?: { socket?: unknown } } }).stream?.session?.socket
      : req.socket
  ) as TLSSocket | undefined;
  const peer = socket?.getPeerCertificate?.();
  const cn = peer?.subject?.CN;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ httpVersion: req.httpVersion, url: req.url, cn: cn ?? null }));
};

interface ClientKeys {
  readonly ca: string;
  readonly cert?: string;
  readonly key?: string;
}

function httpsGet(port: number, path: string, keys: ClientKeys): Promise<{ body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: "127.0.0.1", port, path, agent: false, ...keys, timeout: 10_000 }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ body, fingerprint }));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
  });
}

function h2Get(session: http2.ClientHttp2Session, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":path": path });
    stream.setTimeout(10_000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    let body = "";
    stream.setEncoding("utf8");
    stream.on("data", (d: string) => {
      body += d;
    });
    stream.on("end", () => resolve(body));
    stream.on("error", reject);
    stream.on("close", () => {
      if (stream.rstCode !== 0) reject(new Error(`stream reset ${stream.rstCode}`));
    });
    stream.end();
  });
}

async function h2Connect(port: number, keys: ClientKeys): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`https://127.0.0.1:${port}`, { ...keys });
  await new Promise<void>((resolve, reject) => {
    session.once("connect", () => resolve());
    session.once("error", reject);
  });
  return session;
}

describe("TLS listener", () => {
  let dir: string;
  let certs: TestCertificates;
  let files: { certFile: string; keyFile: string; caFile: string };
  let server: DualProtocolServer;
  const log = captureLog();
  const fastPaths: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mlpipe-tls-"));
    certs = await generateTestCertificates();
    files = await writeServerFiles(dir, certs);
    server = await listenDualProtocol({
      handler,
      streamRoute: (stream, headers) => {
        if (headers[":path"] !== "/fast") return false;
        fastPaths.push("/fast");
        stream.respond({ ":status": 200 });
        stream.end("fast");
        return true;
      },
      host: "127.0.0.1",
      port: 0,
      logger: createLogger({ level: "info", destination: log.destination }),
      tls: { certFile: files.certFile, keyFile: files.keyFile, reloadIntervalMs: 50 },
    });
  });
  afterAll(async () => {
    await server?.close(100);
    await rm(dir, { recursive: true, force: true });
  });

  it("serves HTTP/1.1 and HTTP/2 on one port, told apart by ALPN, with the stream route on HTTP/2", async () => {
    expect(server.url).toBe(`https://127.0.0.1:${server.port}`);
    const h1 = await httpsGet(server.port, "/a", { ca: certs.cert });
    expect(JSON.parse(h1.body)).toMatchObject({ httpVersion: "1.1", url: "/a" });
    const session = await h2Connect(server.port, { ca: certs.cert });
    try {
      expect(JSON.parse(await h2Get(session, "/b"))).toMatchObject({ httpVersion: "2.0", url: "/b" });
      expect(await h2Get(session, "/fast")).toBe("fast");
      expect(fastPaths).toEqual(["/fast"]);
    } finally {
      session.close();
    }
  });

  it("refuses a client that does not trust the certificate", async () => {
    await expect(httpsGet(server.port, "/a", { ca: (await generateTestCertificates()).cert })).rejects.toThrow(
      /self[- ]signed|unable to verify|certificate/i,
    );
  });

  it("reloads a changed certificate for new connections while an open one keeps working, and keeps it over a bad pair", async () => {
    const old = await h2Connect(server.port, { ca: certs.cert });
    try {
      const before = (await httpsGet(server.port, "/", { ca: certs.cert })).fingerprint;
      const next = await generateTestCertificates();
      await writeFile(files.keyFile, next.key);
      await writeFile(files.certFile, next.cert);
      let seen = before;
      for (let i = 0; i < 200 && seen === before; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        seen = (await httpsGet(server.port, "/", { ca: next.cert }).catch(() => ({ fingerprint: before }))).fingerprint;
      }
      expect(seen).not.toBe(before);
      expect(JSON.parse(await h2Get(old, "/still"))).toMatchObject({ url: "/still" });

      // A key that does not match the certificate: logged, the working pair stays.
      const reloadsBefore = log.lines.filter((l) => l.msg === "TLS certificate reloaded").length;
      await writeFile(files.keyFile, (await generateTestCertificates()).key);
      for (let i = 0; i < 200 && !log.lines.some((l) => String(l.msg).startsWith("TLS files changed but")); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(log.lines.some((l) => String(l.msg).startsWith("TLS files changed but"))).toBe(true);
      expect(log.lines.filter((l) => l.msg === "TLS certificate reloaded").length).toBe(reloadsBefore);
      expect((await httpsGet(server.port, "/", { ca: next.cert })).fingerprint).toBe(seen);
    } finally {
      old.close();
    }
  });
});

describe("mutual TLS listener", () => {
  let dir: string;
  let certs: TestCertificates;
  let server: DualProtocolServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mlpipe-mtls-"));
    certs = await generateTestCertificates("alice");
    const files = await writeServerFiles(dir, certs);
    server = await listenDualProtocol({
      handler,
      host: "127.0.0.1",
      port: 0,
      logger: createLogger({ level: "silent" }),
      tls: { ...files, clientCaFile: files.caFile },
    });
  });
  afterAll(async () => {
    await server?.close(100);
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a client without a certificate at the handshake", async () => {
    await expect(httpsGet(server.port, "/", { ca: certs.cert })).rejects.toThrow();
    await expect(
      (async () => {
        const session = await h2Connect(server.port, { ca: certs.cert });
        try {
          return await h2Get(session, "/");
        } finally {
          session.destroy();
        }
      })(),
    ).rejects.toThrow();
  });

  it("accepts a client certificate the CA signed; its CN is on the connection over both HTTP versions", async () => {
    const keys = { ca: certs.cert, cert: certs.clientCert, key: certs.clientKey };
    expect(JSON.parse((await httpsGet(server.port, "/", keys)).body)).toMatchObject({
      httpVersion: "1.1",
      cn: "alice",
    });
    const session = await h2Connect(server.port, keys);
    try {
      expect(JSON.parse(await h2Get(session, "/"))).toMatchObject({ httpVersion: "2.0", cn: "alice" });
    } finally {
      session.close();
    }
  });
});
