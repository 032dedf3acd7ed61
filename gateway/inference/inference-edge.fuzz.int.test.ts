/**
 * Fuzz suite at the inference server's edge (issue 13, "Evidence to show"), against a real server
 * with a real model: random JSON bodies on POST /predict (the JSON body reader and request
 * decoding) and random gRPC framing on Predict and PredictStream (prefix, flags, lengths, chunk
 * boundaries, payload bytes). No answer is a 5xx or gRPC INTERNAL/UNKNOWN, every call ends (one
 * HTTP/2 session per run, bounded by the test timeout), and the server still predicts afterwards.
 * Hundreds of requests per run; the pure parsers get thousands of cases in their own fuzz files.
 */
import http2 from "node:http2";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { postJson, startTestServer } from "../../test/support/inference-test-harness.js";
import { writeTestModels } from "../../test/support/onnx-models.js";

const setosa = [5.1, 3.5, 1.4, 0.2];
let server: InferenceServer;
let session: http2.ClientHttp2Session;

beforeAll(async () => {
  server = await startTestServer({
    MODEL_PATH: writeTestModels().iris,
    MAX_EVENT_LOOP_DELAY_MS: "0",
    MAX_JSON_BODY_BYTES: "65536",
    REQUEST_READ_TIMEOUT_MS: "5000",
  });
  session = http2.connect(server.url);
  session.on("error", () => undefined);
});

afterAll(async () => {
  session?.destroy();
  await server?.shutdown();
});

/** One request on the shared HTTP/2 session: status (HTTP, and gRPC when given) of the answer. */
function call(
  headers: http2.OutgoingHttpHeaders,
  chunks: readonly Uint8Array[],
): Promise<{ status: number; grpcStatus: number | undefined }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ...headers });
    let status = 0;
    let grpcStatus: number | undefined;
    const readGrpc = (h: http2.IncomingHttpHeaders): void => {
      if (h["grpc-status"] !== undefined) grpcStatus = Number(h["grpc-status"]);
    };
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      readGrpc(h);
    });
    stream.on("trailers", readGrpc);
    stream.on("data", () => undefined);
    stream.on("error", reject);
    stream.on("close", () => resolve({ status, grpcStatus }));
    for (const c of chunks) stream.write(c);
    stream.end();
  });
}

const jsonValue = fc.jsonValue({ maxDepth: 4 });
const predictBody = fc.oneof(
  fc.record({ features: fc.oneof(jsonValue, fc.array(fc.double(), { maxLength: 6 })) }, { requiredKeys: [] }),
  fc.record({ instances: fc.oneof(jsonValue, fc.array(fc.array(fc.double(), { maxLength: 5 }), { maxLength: 4 })) }),
  jsonValue,
);
const rawBody = fc.oneof(
  predictBody.map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
  fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.integer({ min: 1, max: 3000 }).map((d) => Buffer.from(`{"features":${"[".repeat(d)}${"]".repeat(d)}}`)),
);

/** Splits bytes at random points, as a network would. */
const chunked = (bytes: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array[]> =>
  fc.tuple(bytes, fc.array(fc.nat(), { maxLength: 4 })).map(([b, cuts]) => {
    const points = [...new Set(cuts.map((c) => (b.length === 0 ? 0 : c % b.length)))].sort((x, y) => x - y);
    const parts: Uint8Array[] = [];
    let from = 0;
    for (const p of points) {
      parts.push(b.subarray(from, p));
      from = p;
    }
    parts.push(b.subarray(from));
    return parts.filter((p) => p.length > 0);
  });

/** gRPC framing: valid-looking prefixes with random flags, lengths (some lying) and payloads. */
const grpcBody = fc
  .array(
    fc.record({
      flags: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
      payload: fc.uint8Array({ maxLength: 64 }),
      lie: fc.oneof(fc.constant(0), fc.integer({ min: -64, max: 1 << 20 })),
    }),
    { maxLength: 3 },
  )
  .map((frames) =>
    Buffer.concat(
      frames.map(({ flags, payload, lie }) => {
        const head = Buffer.alloc(5);
        head.writeUInt8(flags, 0);
        head.writeUInt32BE(Math.max(0, payload.length + lie), 1);
        return Buffer.concat([head, payload]);
      }),
    ),
  );

async function expectServing(): Promise<void> {
  const ok = await postJson(`${server.url}/predict`, { features: setosa });
  expect(ok.status).toBe(200);
}

describe("inference edge (fuzz)", () => {
  it("answers any /predict body with a 2xx or 4xx, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(chunked(rawBody), async (chunks) => {
        const { status } = await call({ ":path": "/predict", "content-type": "application/json" }, chunks);
        expect(status).toBeGreaterThanOrEqual(200);
        expect(status).toBeLessThan(500);
      }),
      { numRuns: 600 },
    );
    await expectServing();
  }, 120_000);

  it("answers any gRPC framing on Predict and PredictStream with a status other than INTERNAL or UNKNOWN", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("Predict", "PredictStream", "PredictBatch"),
        chunked(grpcBody),
        async (method, chunks) => {
          const { status, grpcStatus } = await call(
            {
              ":path": `/mlpipe.inference.v1.InferenceService/${method}`,
              "content-type": "application/grpc",
              te: "trailers",
            },
            chunks,
          );
          expect(status).toBe(200);
          expect(grpcStatus).toBeDefined();
          expect([2, 13]).not.toContain(grpcStatus);
        },
      ),
      { numRuns: 600 },
    );
    await expectServing();
  }, 120_000);
});
