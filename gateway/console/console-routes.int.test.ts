/**
 * The console's HTTP routes on a real dual-protocol listener: static files of a build directory
 * (content types, caching, gzip, ETag, HEAD, SPA fallback, 404 JSON for unknown assets, no way out
 * of the build), the RPC handler never shadowed, and the Serving proxy's answers and failures. The
 * last suite runs the real registry server: console at `/`, Connect and gRPC on the same port.
 */

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../core/logger.js";
import { TrackingService } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { createGrpcClient } from "../../test/support/grpc-client.js";
import { startTestRegistryServer, type TestRegistryServer } from "../../test/support/registry-server.js";
import { type DualProtocolServer, listenDualProtocol } from "../http/dual-protocol-server.js";
import { withRoutes } from "../http/http-route.js";
import { createConnectHandler } from "../protocol-connect/connect-handler.js";
import { createConsoleAssets } from "./console-assets.js";
import { createServingProxy } from "./serving-proxy.js";

const logger = createLogger({ level: "silent" });

/** An HTTP/1.1 answer read whole. */
interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** Sends `path` exactly as given (fetch would normalise `..` away before it leaves the client). */
function rawRequest(
  base: string,
  path: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method: init.method ?? "GET", headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer for ${path} within 10 s`)));
    req.on("error", reject);
    req.end();
  });
}

function errorId(answer: Answer): unknown {
  return (JSON.parse(answer.body.toString("utf8")) as { error: { id: string } }).error.id;
}

describe("console assets and serving proxy on a dual-protocol listener", () => {
  let base: string;
  let dist: string;
  let hugeMetrics = false;
  let server: DualProtocolServer;
  let inference: Server;
  let inferenceUrl: string | undefined;
  const script = `console.log(${JSON.stringify("x".repeat(4096))});\n`;

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), "mlpipe-console-"));
    dist = join(base, "dist");
    await mkdir(join(dist, "assets"), { recursive: true });
    await writeFile(
      join(dist, "index.html"),
      '<!doctype html><script type="module" src="/assets/index-Ab12.js"></script>',
    );
    await writeFile(join(dist, "assets", "index-Ab12.js"), script);
    await writeFile(join(dist, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
    await writeFile(join(base, "secret-beside-dist.txt"), "not to be served");
    // A stand-in inference server for the proxy's edge cases (the real one is exercised end to end
    // by console/e2e): it answers its two paths, and a huge body on /metrics when asked for.
    inference = createHttpServer((req, res) => {
      if (req.url === "/model/info") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"name":"iris-classifier","version":"3"}');
      } else if (req.url === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
        res.end(hugeMetrics ? "x".repeat(5 * 1024 * 1024) : "prediction_requests_total 7\n");
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => inference.listen(0, "127.0.0.1", resolve));
    const rpc = createConnectHandler({ routes: () => {}, maxRequestBytes: 1024 * 1024, logger });
    const routes = [
      await createConsoleAssets({ root: dist, logger }),
      createServingProxy({ inferenceUrl: () => inferenceUrl, logger, timeoutMs: 2_000 }),
    ];
    server = await listenDualProtocol({ handler: withRoutes(routes, rpc), host: "127.0.0.1", port: 0, logger });
  });

  afterAll(async () => {
    await server?.close(100);
    await new Promise((resolve) => inference?.close(resolve));
    await rm(base, { recursive: true, force: true });
  });

  it("serves index.html at / and at the console's routes, revalidated, with a content security policy", async () => {
    for (const path of [
      "/",
      "/experiments",
      "/runs/abc?x=1",
      "/compare?runs=a,b",
      "/models/iris/versions",
      "/serving",
    ]) {
      const answer = await rawRequest(server.url, path);
      expect(answer.status, path).toBe(200);
      expect(answer.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(answer.headers["cache-control"]).toBe("no-cache");
      expect(answer.headers["content-security-policy"]).toContain("default-src 'self'");
      expect(answer.body.toString()).toContain("/assets/index-Ab12.js");
    }
    const first = await rawRequest(server.url, "/");
    const etag = String(first.headers.etag);
    const again = await rawRequest(server.url, "/experiments", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it("serves hashed assets as immutable with their content type, gzipped when accepted, and HEAD without a body", async () => {
    const plain = await rawRequest(server.url, "/assets/index-Ab12.js");
    expect(plain.status).toBe(200);
    expect(plain.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(plain.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(plain.headers["x-content-type-options"]).toBe("nosniff");
    expect(plain.body.toString()).toBe(script);

    const gzipped = await rawRequest(server.url, "/assets/index-Ab12.js", {
      headers: { "accept-encoding": "br, gzip" },
    });
    expect(gzipped.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gzipped.body).toString()).toBe(script);
    const refused = await rawRequest(server.url, "/assets/index-Ab12.js", {
      headers: { "accept-encoding": "gzip;q=0" },
    });
    expect(refused.headers["content-encoding"]).toBeUndefined();

    const head = await rawRequest(server.url, "/assets/index-Ab12.js", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe(String(Buffer.byteLength(script)));
    expect(head.body.length).toBe(0);

    const icon = await rawRequest(server.url, "/favicon.svg");
    expect(icon.headers["content-type"]).toBe("image/svg+xml");
  });

  it("answers an unknown asset with 404 JSON, never index.html, and no path leaves the build", async () => {
    const missing = await rawRequest(server.url, "/assets/index-Old9.js");
    expect(missing.status).toBe(404);
    expect(missing.headers["content-type"]).toBe("application/json");
    expect(errorId(missing)).toBe("CONSOLE_ASSET_NOT_FOUND");
    for (const path of [
      "/assets/../../secret-beside-dist.txt",
      "/assets/..%2f..%2fsecret-beside-dist.txt",
      "/assets/%2e%2e/%2e%2e/secret-beside-dist.txt",
      "/../secret-beside-dist.txt",
      "/%2e%2e/secret-beside-dist.txt",
      "//etc/passwd",
    ]) {
      const answer = await rawRequest(server.url, path);
      expect(answer.status, path).toBe(404);
      expect(answer.body.toString(), path).not.toContain("not to be served");
    }
  });

  it("leaves other methods and paths to the RPC handler", async () => {
    const post = await rawRequest(server.url, "/", { method: "POST" });
    expect(post.status).toBe(404);
    expect(errorId(post)).toBe("ROUTE_NOT_FOUND");
    const unknown = await rawRequest(server.url, "/nothing-here");
    expect(errorId(unknown)).toBe("ROUTE_NOT_FOUND");
    const rpcPath = await rawRequest(server.url, "/mlpipe.tracking.v1.TrackingService/GetRun");
    expect(errorId(rpcPath)).toBe("ROUTE_NOT_FOUND");
  });

  it("passes the inference server's /model/info and /metrics through, and fails clearly without one", async () => {
    inferenceUrl = undefined;
    const unconfigured = await rawRequest(server.url, "/console-api/serving/model/info");
    expect(unconfigured.status).toBe(400);
    expect(errorId(unconfigured)).toBe("CONSOLE_INFERENCE_NOT_CONFIGURED");

    inferenceUrl = `http://127.0.0.1:${(inference.address() as AddressInfo).port}`;
    const info = await rawRequest(server.url, "/console-api/serving/model/info");
    expect(info.status).toBe(200);
    expect(JSON.parse(info.body.toString())).toEqual({ name: "iris-classifier", version: "3" });
    expect(info.headers["cache-control"]).toBe("no-store");
    const metrics = await rawRequest(server.url, "/console-api/serving/metrics");
    expect(metrics.headers["content-type"]).toBe("text/plain; version=0.0.4");
    expect(metrics.body.toString()).toBe("prediction_requests_total 7\n");
    expect((await rawRequest(server.url, "/console-api/serving/predict")).status).toBe(404);
    expect((await rawRequest(server.url, "/console-api/serving/metrics", { method: "POST" })).status).toBe(404);

    hugeMetrics = true;
    const huge = await rawRequest(server.url, "/console-api/serving/metrics");
    hugeMetrics = false;
    expect(huge.status).toBe(503);
    expect(JSON.parse(huge.body.toString()).error.message).toMatch(/larger than 4194304 bytes/);

    const closed = createHttpServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    inferenceUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await rawRequest(server.url, "/console-api/serving/model/info");
    expect(refused.status).toBe(503);
    expect(errorId(refused)).toBe("CONSOLE_INFERENCE_UNREACHABLE");
    expect(JSON.parse(refused.body.toString()).error.message).toMatch(/connection refused/);
  });
});

describe("console on the real registry server", () => {
  let registry: TestRegistryServer;

  beforeAll(async () => {
    registry = await startTestRegistryServer();
  });

  afterAll(async () => {
    await registry?.close();
  });

  it("serves the committed console build at / while Connect and gRPC calls work on the same port", async () => {
    const page = await fetch(`${registry.url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${registry.url}${script ?? ""}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");

    const connect = await fetch(`${registry.url}/mlpipe.tracking.v1.TrackingService/GetExperiment`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ experimentId: "0" }),
    });
    expect(((await connect.json()) as { experiment: { name: string } }).experiment.name).toBe("Default");
    const grpc = createGrpcClient(TrackingService, registry.address);
    try {
      expect((await grpc.getExperiment({ experimentId: "0" })).experiment?.name).toBe("Default");
    } finally {
      grpc.close();
    }
    const noInference = await fetch(`${registry.url}/console-api/serving/model/info`);
    expect(noInference.status).toBe(400);
  });
});
