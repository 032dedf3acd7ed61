/**
 * The gRPC fast path (grpc-fast-path.ts) on a real inference server: what it serves, what it
 * leaves to connect-node, and every way a gRPC request can be wrong at the framing level, seen by
 * grpc-js and by a raw node:http2 client that can send what grpc-js never would.
 */
import http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";
import {
  DataType,
  InferenceService,
  PredictRequestSchema,
  PredictResponseSchema,
  type PredictStreamRequest,
  PredictStreamRequestSchema,
  PredictStreamResponseSchema,
  ResponseForm,
} from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { createGrpcClient, type GrpcClient, isServiceError, statusBinDetails } from "../../test/support/grpc-client.js";
import { readMetric, startTestServer } from "../../test/support/inference-test-harness.js";
import {
  irisBias,
  irisWeights,
  referenceProbabilities,
  type TestModels,
  writeTestModels,
} from "../../test/support/onnx-models.js";

const setosa = [5.1, 3.5, 1.4, 0.2];
const virginica = [6.7, 3.0, 5.2, 2.3];
const predictPath = "/mlpipe.inference.v1.InferenceService/Predict";
const streamPath = "/mlpipe.inference.v1.InferenceService/PredictStream";
const maxRequestBytes = 65_536;

let models: TestModels;
let server: InferenceServer;
let client: GrpcClient<(typeof InferenceService)["method"]>;

beforeAll(async () => {
  models = writeTestModels();
  server = await startTestServer({ MODEL_PATH: models.iris, MAX_REQUEST_BYTES: String(maxRequestBytes) });
  client = createGrpcClient(InferenceService, new URL(server.url).host);
});

afterAll(async () => {
  client?.close();
  await server?.shutdown();
});

/** A length-prefixed gRPC message; `flags` 1 marks it compressed. */
function envelope(payload: Uint8Array, flags = 0): Buffer {
  const out = Buffer.alloc(5 + payload.byteLength);
  out[0] = flags;
  out.writeUInt32BE(payload.byteLength, 1);
  out.set(payload, 5);
  return out;
}

const predictMessage = (): Buffer =>
  Buffer.from(toBinary(PredictRequestSchema, create(PredictRequestSchema, { features: setosa })));

/** What a raw HTTP/2 gRPC call got back: headers, trailers (undefined for trailers-only) and messages. */
interface RawAnswer {
  readonly headers: http2.IncomingHttpHeaders;
  readonly trailers: http2.IncomingHttpHeaders | undefined;
  readonly messages: Buffer[];
}

/** How {@link rawCall} behaves beyond sending its chunks. */
interface RawCallOptions {
  /** Leaves the request stream open after the chunks (the client never half-closes). */
  readonly keepOpen?: boolean;
  /** Reads nothing of the answer until this resolves (a client that stops reading). */
  readonly readWhen?: (stream: http2.ClientHttp2Stream) => Promise<void>;
}

/** Sends `chunks` on one stream (ending it unless `keepOpen`) and collects the answer. */
function rawCall(
  path: string,
  chunks: readonly Buffer[],
  headers: Record<string, string> = {},
  options: RawCallOptions = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(server.url);
    session.on("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    const body: Buffer[] = [];
    stream.on("response", (h) => {
      responseHeaders = h;
    });
    stream.on("trailers", (t) => {
      trailers = t;
    });
    const read = (): void => {
      stream.on("data", (c: Buffer) => body.push(c));
    };
    if (options.readWhen === undefined) read();
    else {
      stream.pause();
      options.readWhen(stream).then(() => {
        read();
        stream.resume();
      }, reject);
    }
    stream.on("error", reject);
    stream.on("close", () => {
      session.close();
      const all = Buffer.concat(body);
      const messages: Buffer[] = [];
      for (let at = 0; at + 5 <= all.length; ) {
        const length = all.readUInt32BE(at + 1);
        messages.push(all.subarray(at + 5, at + 5 + length));
        at += 5 + length;
      }
      resolve({ headers: responseHeaders, trailers, messages });
    });
    for (const c of chunks) stream.write(c);
    if (options.keepOpen !== true) stream.end();
  });
}

/** The gRPC status, message and mlpipe error id of a raw answer (trailers, or trailers-only headers). */
function statusOf(answer: RawAnswer): { code: number; message: string; id: string | undefined } {
  const h = answer.trailers ?? answer.headers;
  const details = h["grpc-status-details-bin"];
  const id =
    typeof details === "string"
      ? statusBinDetails(Buffer.from(details, "base64"), ErrorDetailSchema)[0]?.id
      : undefined;
  return { code: Number(h["grpc-status"]), message: decodeURIComponent(String(h["grpc-message"] ?? "")), id };
}

describe("gRPC fast path: served methods", () => {
  it("answers Predict, PredictBatch and PredictStream over grpc-js and counts them as grpc", async () => {
    const before = await readMetric(server.url, "prediction_requests_total", { protocol: "grpc", code: "ok" });
    const one = await client.predict({ features: setosa });
    expect(one.prediction?.prediction).toBe(0);
    expect(one.modelVersion).toBe("1");
    const rows = new Float32Array([...setosa, 6.7, 3.0, 5.2, 2.3]);
    const batch = await client.predictBatch({
      inputs: { dtype: DataType.FLOAT32, shape: [2n, 4n], data: new Uint8Array(rows.buffer) },
      responseForm: ResponseForm.TENSORS,
    });
    expect(batch.outputs.length).toBeGreaterThan(0);
    const answers: string[] = [];
    for await (const r of client.predictStream([
      { requestId: "a", features: setosa },
      { requestId: "b", features: virginica },
    ])) {
      answers.push(`${r.requestId}:${r.result.case === "prediction" ? r.result.value.prediction : r.result.case}`);
    }
    const expected = referenceProbabilities(irisWeights, irisBias, virginica);
    expect(answers.sort()).toEqual(["a:0", `b:${expected.indexOf(Math.max(...expected))}`]);
    expect(await readMetric(server.url, "prediction_requests_total", { protocol: "grpc", code: "ok" })).toBe(
      before + 4,
    );
  });

  it("keeps every concurrent PredictBatch's rows its own (multi-frame requests, answers checked row by row)", async () => {
    const calls = Array.from({ length: 24 }, async (_, call) => {
      const rows = 600 + call * 37; // 9.6 KB .. 24 KB of float32: one to several DATA frames
      const values = new Float32Array(rows * 4);
      for (let i = 0; i < values.length; i++) values[i] = ((i * 7 + call * 13) % 80) / 10;
      const r = await client.predictBatch({
        inputs: { dtype: DataType.FLOAT32, shape: [BigInt(rows), 4n], data: new Uint8Array(values.buffer) },
      });
      expect(r.predictions).toHaveLength(rows);
      r.predictions.forEach((p, i) => {
        const expected = referenceProbabilities(irisWeights, irisBias, [...values.subarray(i * 4, i * 4 + 4)]);
        expect(p.prediction, `call ${call} row ${i}`).toBe(expected.indexOf(Math.max(...expected)));
      });
    });
    await Promise.all(calls);
  });

  it("accepts gzip-compressed requests from grpc-js", async () => {
    const gzipClient = createGrpcClient(InferenceService, new URL(server.url).host, {
      "grpc.default_compression_algorithm": 2,
    });
    try {
      const r = await gzipClient.predict({ features: setosa });
      expect(r.prediction?.prediction).toBe(0);
    } finally {
      gzipClient.close();
    }
    const raw = await rawCall(predictPath, [envelope(gzipSync(predictMessage()), 1)], { "grpc-encoding": "gzip" });
    expect(statusOf(raw).code).toBe(grpc.status.OK);
    expect(fromBinary(PredictResponseSchema, raw.messages[0] ?? new Uint8Array()).prediction?.prediction).toBe(0);
  });

  it("leaves ModelInfo, the Connect protocol over HTTP/2 and gRPC-Web to connect-node", async () => {
    const info = await client.modelInfo({});
    expect(info.version).toBe("1");
    const before = await readMetric(server.url, "prediction_requests_total", { protocol: "connect", code: "ok" });
    const connect = createClient(InferenceService, createConnectTransport({ baseUrl: server.url, httpVersion: "2" }));
    expect((await connect.predict({ features: setosa })).prediction?.prediction).toBe(0);
    expect(await readMetric(server.url, "prediction_requests_total", { protocol: "connect", code: "ok" })).toBe(
      before + 1,
    );
    const web = createClient(InferenceService, createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    expect((await web.predict({ features: setosa })).prediction?.prediction).toBe(0);
  });
});

describe("gRPC fast path: bad requests, each a clear status", () => {
  it.each([
    [
      "an invalid grpc-timeout",
      [predictMessage()],
      { "grpc-timeout": "soon" },
      grpc.status.INVALID_ARGUMENT,
      "INVALID_ARGUMENT",
    ],
    [
      "an encoding the server does not decompress",
      [envelope(predictMessage(), 1)],
      { "grpc-encoding": "snappy" },
      grpc.status.UNIMPLEMENTED,
      "UNSUPPORTED_ENCODING",
    ],
    [
      "a compressed message without grpc-encoding",
      [envelope(gzipSync(predictMessage()), 1)],
      {},
      grpc.status.INVALID_ARGUMENT,
      "INVALID_ARGUMENT",
    ],
    [
      "gzip bytes that do not decompress",
      [envelope(Buffer.from("not gzip at all"), 1)],
      { "grpc-encoding": "gzip" },
      grpc.status.INVALID_ARGUMENT,
      "INVALID_ARGUMENT",
    ],
    [
      "a gzip message that inflates beyond MAX_REQUEST_BYTES",
      [envelope(gzipSync(Buffer.alloc(4 * maxRequestBytes)), 1)],
      { "grpc-encoding": "gzip" },
      grpc.status.RESOURCE_EXHAUSTED,
      "REQUEST_TOO_LARGE",
    ],
    [
      "a message prefix announcing more than MAX_REQUEST_BYTES",
      [Buffer.from([0, 0x7f, 0, 0, 0])],
      {},
      grpc.status.RESOURCE_EXHAUSTED,
      "REQUEST_TOO_LARGE",
    ],
    [
      "two messages on a unary call",
      [predictMessage(), predictMessage()].map((m) => envelope(m)),
      {},
      grpc.status.INVALID_ARGUMENT,
      "INVALID_ARGUMENT",
    ],
    ["no message at all", [], {}, grpc.status.INVALID_ARGUMENT, "INVALID_ARGUMENT"],
    [
      "a truncated message",
      [envelope(predictMessage()).subarray(0, 8)],
      {},
      grpc.status.INVALID_ARGUMENT,
      "INVALID_ARGUMENT",
    ],
    [
      "bytes that are not protobuf",
      [envelope(Buffer.from([0xff, 0xff, 0xff]))],
      {},
      grpc.status.INVALID_ARGUMENT,
      "INVALID_ARGUMENT",
    ],
  ] as const)("%s", async (_what, chunks, headers, code, id) => {
    const answer = await rawCall(predictPath, chunks, headers);
    expect(answer.headers[":status"]).toBe(200);
    const status = statusOf(answer);
    expect(status.code, status.message).toBe(code);
    expect(status.id).toBe(id);
    expect(answer.messages).toEqual([]);
  });

  it("answers every message of a stream whose client stops reading until its receive window is full", async () => {
    // 120 answers of ~20 KB each overflow the client's 64 KiB receive window while it does not
    // read: the server's writes back up, it stops reading requests until they drain, and must
    // start again once the client reads (a server that never resumed would leave this hanging).
    // Unlike a client that reads only after its last write is flushed: that one deadlocks with any
    // flow-controlled server once its requests exceed the windows.
    const rows = 1024;
    const values = new Float32Array(rows * 4).fill(1.5);
    const messages = Array.from({ length: 120 }, (_, i) =>
      envelope(
        toBinary(
          PredictStreamRequestSchema,
          create(PredictStreamRequestSchema, {
            requestId: `m${i}`,
            inputs: { dtype: DataType.FLOAT32, shape: [BigInt(rows), 4n], data: new Uint8Array(values.buffer) },
            responseForm: ResponseForm.TENSORS,
          }),
        ),
      ),
    );
    // Reads nothing until the answers fill the client's receive window (the server's writes
    // then back up), then everything.
    const answer = await rawCall(
      streamPath,
      messages,
      {},
      {
        readWhen: (stream) =>
          new Promise((resolve) => {
            const check = (): void => {
              if (stream.readableLength < 48 * 1024) setTimeout(check, 5);
              else resolve();
            };
            check();
          }),
      },
    );
    expect(statusOf(answer).code).toBe(grpc.status.OK);
    const ids = answer.messages.map((b) => fromBinary(PredictStreamResponseSchema, b).requestId);
    expect(new Set(ids).size).toBe(120);
  });

  it("fails a stream whose message is not protobuf, after answering the messages before it", async () => {
    const good = Buffer.from(
      toBinary(PredictStreamRequestSchema, create(PredictStreamRequestSchema, { requestId: "ok", features: setosa })),
    );
    const answer = await rawCall(streamPath, [envelope(good), envelope(Buffer.from([0xff, 0xff]))]);
    const status = statusOf(answer);
    expect(status.code, status.message).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.id).toBe("INVALID_ARGUMENT");
  });

  it("answers a bad stream message in its own StreamError and keeps the stream going", async () => {
    const messages: PredictStreamRequest[] = [
      create(PredictStreamRequestSchema, { requestId: "short", features: [1, 2] }),
      create(PredictStreamRequestSchema, { requestId: "fine", features: setosa }),
    ];
    const answer = await rawCall(
      streamPath,
      messages.map((m) => envelope(toBinary(PredictStreamRequestSchema, m))),
    );
    expect(statusOf(answer).code).toBe(grpc.status.OK);
    const byId = new Map(
      answer.messages.map((b) => fromBinary(PredictStreamResponseSchema, b)).map((r) => [r.requestId, r]),
    );
    const short = byId.get("short")?.result;
    expect(short?.case === "error" ? short.value.id : short?.case).toBe("INFERENCE_INVALID_INPUT");
    expect(byId.get("fine")?.result.case).toBe("prediction");
  });

  it("ends a stream whose grpc-timeout passes with DEADLINE_EXCEEDED, though the client keeps it open", async () => {
    const hello = create(PredictStreamRequestSchema, { requestId: "x", features: setosa });
    const answer = await rawCall(
      streamPath,
      [envelope(toBinary(PredictStreamRequestSchema, hello))],
      { "grpc-timeout": "200m" },
      { keepOpen: true },
    );
    expect(statusOf(answer).code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(answer.messages.map((b) => fromBinary(PredictStreamResponseSchema, b).requestId)).toEqual(["x"]);
  });

  it("answers a grpc-js deadline that has already passed with DEADLINE_EXCEEDED", async () => {
    const err = await client.predict({ features: setosa }, { deadline: new Date(Date.now() - 1) }).catch((e) => e);
    expect(isServiceError(err) ? err.code : err).toBe(grpc.status.DEADLINE_EXCEEDED);
  });
});
