/**
 * Issue 13, defect 3 on the RPCs served by connect-node (Connect and gRPC-Web, both ports): the
 * body of a unary or server-streaming call is read whole, within REQUEST_READ_TIMEOUT_MS, before
 * the call starts and before admission control counts it (protocol-connect/request-read-ahead.ts).
 *
 * - With MAX_IN_FLIGHT_REQUESTS=4 and 128 Connect and gRPC-Web Predict calls stalling or trickling
 *   their bodies (one byte every 500 ms), real /predict and Connect Predict calls are all answered
 *   (before: 429 / resource_exhausted for as long as the slow calls lasted: until Node's request
 *   timeout on HTTP/1.1, until the 5-minute idle timeout on HTTP/2, which a trickle never reaches).
 * - A body shorter than its Content-Length (HTTP/1.1) or a stream that never ends (HTTP/2) is
 *   answered once the read timeout passes: Connect deadline_exceeded with its JSON error, gRPC-Web
 *   grpc-status 4, or Node's plain 408 on the inference port's HTTP/1.1 (whichever timer fires
 *   first), and the connection is closed; on the registry port too, whose HTTP/1.1 requests have
 *   no overall time bound (long artifact uploads).
 *
 * Every wait is bounded by the test's timeout; no duration is asserted.
 */
import http2 from "node:http2";
import net, { type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { postJson, startTestServer } from "../../test/support/inference-test-harness.js";
import { writeTestModels } from "../../test/support/onnx-models.js";
import { startTestRegistryServer, type TestRegistryServer } from "../../test/support/registry-server.js";

const setosa = [5.1, 3.5, 1.4, 0.2];
const readTimeoutMs = 1500;
const predict = "/mlpipe.inference.v1.InferenceService/Predict";

let server: InferenceServer;
let registry: TestRegistryServer;
const sockets = new Set<Socket>();

beforeAll(async () => {
  [server, registry] = await Promise.all([
    startTestServer({
      MODEL_PATH: writeTestModels().iris,
      MAX_IN_FLIGHT_REQUESTS: "4",
      MAX_EVENT_LOOP_DELAY_MS: "0",
      REQUEST_READ_TIMEOUT_MS: String(readTimeoutMs),
    }),
    startTestRegistryServer({ env: { REQUEST_READ_TIMEOUT_MS: String(readTimeoutMs) } }),
  ]);
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all([server?.shutdown(), registry?.close()]);
});

/**
 * Opens a raw HTTP/1.1 connection to `port`, writes `head` (then, with `trickle`, one more byte
 * every 500 ms), and resolves with everything the server sends until it closes.
 */
function rawRequest(port: number, head: string, trickle?: string): Promise<string> {
  const socket = net.connect(port, "127.0.0.1");
  sockets.add(socket);
  socket.write(head);
  const timer = trickle === undefined ? undefined : setInterval(() => socket.write(trickle), 500);
  socket.once("close", () => clearInterval(timer));
  return new Promise<string>((resolve) => {
    let text = "";
    socket.on("data", (d: Buffer) => {
      text += d.toString("latin1");
    });
    socket.on("error", () => undefined);
    socket.once("close", () => {
      sockets.delete(socket);
      resolve(text);
    });
  });
}

const rpcHead = (path: string, contentType: string, contentLength: number): string =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nContent-Length: ${contentLength}\r\n\r\n`;

/** The start of a gRPC-Web message envelope announcing 100 bytes, of which none follow. */
const grpcWebStart = Buffer.from([0, 0, 0, 0, 100]).toString("latin1");

/** A Connect unary Predict call over HTTP/1.1 (JSON); its status and JSON body. */
async function connectPredict(): Promise<{ status: number; body: Record<string, unknown> }> {
  return postJson(`${server.url}${predict}`, { features: setosa });
}

/**
 * Sends a request over HTTP/2 whose body never ends (with `trickle`, one more byte every 300 ms);
 * resolves with the response headers and body.
 */
async function h2Unfinished(
  url: string,
  path: string,
  contentType: string,
  firstBytes: Uint8Array,
  trickle?: string,
): Promise<{ headers: http2.IncomingHttpHeaders; body: string }> {
  const session = http2.connect(url);
  try {
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": contentType });
    stream.write(firstBytes);
    const timer = trickle === undefined ? undefined : setInterval(() => stream.write(trickle), 300);
    stream.once("close", () => clearInterval(timer));
    return await new Promise((resolve, reject) => {
      let headers: http2.IncomingHttpHeaders = {};
      let body = "";
      stream.on("response", (h) => {
        headers = h;
      });
      stream.on("data", (d: Buffer) => {
        body += d.toString();
      });
      stream.on("close", () => resolve({ headers, body }));
      stream.on("error", reject);
    });
  } finally {
    session.destroy();
  }
}

describe("slow Connect and gRPC-Web bodies (defect 3)", () => {
  it("keep /predict and Connect Predict available while 128 calls stall or trickle their bodies", async () => {
    const port = Number(new URL(server.url).port);
    // Half of them stop after a few bytes, half send one more byte every 500 ms (which no idle
    // timeout would ever end).
    const slow = Array.from({ length: 128 }, (_, i) => {
      const trickle = i % 4 >= 2 ? (i % 2 === 0 ? " " : "\0") : undefined;
      return i % 2 === 0
        ? rawRequest(port, `${rpcHead(predict, "application/json", 1000)}{"features":`, trickle)
        : rawRequest(port, rpcHead(predict, "application/grpc-web+proto", 105) + grpcWebStart, trickle);
    });
    // The slow calls have been received up to their bodies before the real ones are sent.
    await new Promise((r) => setTimeout(r, 200));
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await postJson(`${server.url}/predict`, { features: setosa })).status);
      statuses.push((await connectPredict()).status);
    }
    expect(statuses).toEqual(Array(20).fill(200));
    // Each slow call ends once the read timeout passes, with its connection closed: Connect's
    // deadline_exceeded (504), gRPC-Web's status 4, or Node's own 408 for the whole request.
    for (const [i, answer] of (await Promise.all(slow)).entries()) {
      if (i % 2 === 0) expect(answer).toMatch(/^HTTP\/1\.1 (408 |504 [\s\S]*"code":"deadline_exceeded")/);
      else expect(answer).toMatch(/^HTTP\/1\.1 (408 |200 [\s\S]*grpc-status: 4\r\n)/i);
    }
  }, 30_000);

  it("answers a Connect call whose HTTP/2 body trickles without end with deadline_exceeded", async () => {
    const { headers, body } = await h2Unfinished(
      server.url,
      predict,
      "application/json",
      new TextEncoder().encode('{"features":'),
      " ",
    );
    expect(headers[":status"]).toBe(504);
    expect(JSON.parse(body)).toMatchObject({ code: "deadline_exceeded" });
    expect(body).toContain("REQUEST_TIMEOUT");
  }, 20_000);

  it("answers a gRPC-Web call whose HTTP/2 body never ends with DEADLINE_EXCEEDED", async () => {
    const { headers } = await h2Unfinished(
      server.url,
      predict,
      "application/grpc-web+proto",
      Buffer.from(grpcWebStart, "latin1"),
    );
    expect(headers[":status"]).toBe(200);
    expect(headers["grpc-status"]).toBe("4");
  }, 20_000);

  it("answers a truncated Connect body on the registry port over HTTP/1.1 and closes the connection", async () => {
    const answer = await rawRequest(
      registry.port,
      `${rpcHead("/mlpipe.tracking.v1.TrackingService/GetExperiment", "application/json", 100)}{"experimentId":`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 504 /);
    expect(answer).toMatch(/connection: close/i);
    expect(answer).toContain('"code":"deadline_exceeded"');
    expect(answer).toContain("REQUEST_TIMEOUT");
  }, 20_000);

  it("answers a gRPC-Web server-streaming call whose body never ends on the registry port over HTTP/2", async () => {
    const { headers } = await h2Unfinished(
      registry.url,
      "/mlpipe.registry.v1.RegistryService/WatchRegisteredModel",
      "application/grpc-web+proto",
      Buffer.from(grpcWebStart, "latin1"),
    );
    expect(headers[":status"]).toBe(200);
    expect(headers["grpc-status"]).toBe("4");
  }, 20_000);

  it("still serves well-formed Connect calls on the registry port", async () => {
    const res = await postJson(`${registry.url}/mlpipe.tracking.v1.TrackingService/CreateExperiment`, {
      name: "read-ahead",
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ experiment: { name: "read-ahead" } });
  }, 20_000);
});
