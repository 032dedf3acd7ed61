/**
 * Issue 13, defect 3 on gRPC: unary prediction calls (Predict, PredictBatch, ModelInfer on the
 * fast path) are admitted once their request message has arrived, within REQUEST_READ_TIMEOUT_MS.
 * With MAX_IN_FLIGHT_REQUESTS=4 and 16 calls trickling their message, real Predict calls are all
 * answered (before: RESOURCE_EXHAUSTED for as long as the slow calls lasted), and the slow calls
 * end DEADLINE_EXCEEDED (REQUEST_TIMEOUT) once the read timeout passes (before: at the idle timeout).
 *
 * Every wait is bounded by the test's timeout; no duration is asserted.
 */
import http2, { type ClientHttp2Session } from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { InferenceService } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { createGrpcClient, type GrpcClient } from "../../test/support/grpc-client.js";
import { startTestServer } from "../../test/support/inference-test-harness.js";
import { writeTestModels } from "../../test/support/onnx-models.js";

const setosa = [5.1, 3.5, 1.4, 0.2];
const readTimeoutMs = 1500;

let server: InferenceServer;
let client: GrpcClient<typeof InferenceService.method>;
const sessions = new Set<ClientHttp2Session>();

beforeAll(async () => {
  server = await startTestServer({
    MODEL_PATH: writeTestModels().iris,
    MAX_IN_FLIGHT_REQUESTS: "4",
    MAX_EVENT_LOOP_DELAY_MS: "0",
    REQUEST_READ_TIMEOUT_MS: String(readTimeoutMs),
  });
  client = createGrpcClient(InferenceService, new URL(server.url).host);
});

afterAll(async () => {
  client?.close();
  for (const s of sessions) s.destroy();
  await server?.shutdown();
});

/**
 * Starts a gRPC Predict call on its own connection that sends the first 3 bytes of a 100-byte
 * message and then nothing; resolves with the grpc-status the server ends it with.
 */
function tricklingCall(): Promise<string | undefined> {
  const session = http2.connect(server.url);
  sessions.add(session);
  session.on("error", () => undefined);
  const stream = session.request({
    ":method": "POST",
    ":path": `/${InferenceService.typeName}/Predict`,
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.on("error", () => undefined);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(100, 1);
  stream.write(Buffer.concat([prefix, Buffer.from([0x0a, 0x10, 0x00])]));
  return new Promise((resolve) => {
    let status: string | undefined;
    const note = (headers: http2.IncomingHttpHeaders): void => {
      const value = headers["grpc-status"];
      if (typeof value === "string") status = value;
    };
    stream.on("response", note);
    stream.on("trailers", note);
    stream.resume();
    stream.once("close", () => {
      session.close();
      sessions.delete(session);
      resolve(status);
    });
  });
}

describe("slow gRPC request messages (defect 3)", () => {
  it("keeps gRPC Predict available while calls trickle their message; they end DEADLINE_EXCEEDED", async () => {
    const slow = Array.from({ length: 16 }, () => tricklingCall());
    // The slow calls have sent their partial message before the real ones are made.
    await new Promise((r) => setTimeout(r, 300));
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push((await client.predict({ features: setosa })).prediction?.prediction);
    expect(answers).toEqual(Array(20).fill(0));
    // 4 is DEADLINE_EXCEEDED.
    expect(await Promise.all(slow)).toEqual(Array(16).fill("4"));
  }, 60_000);
});
