/**
 * The transport ceiling: a bench-only server with mlpipe's transport stack (the dual-protocol
 * listener, the gRPC fast path for Predict/PredictBatch/PredictStream, the Connect handler with its
 * interceptor and limits for the other protocols, a JSON /predict route reading and parsing the
 * body) whose Predict does no work: it answers a fixed prediction at once. What
 * mlpipe's real Predict reaches, divided by what this reaches, is the share of the transport's
 * throughput that batching and inference leave.
 *
 * `tsx bench/servers/noop-inference-server.ts --port N` (127.0.0.1).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { createLogger } from "../../core/logger.js";
import { listenDualProtocol } from "../../gateway/http/dual-protocol-server.js";
import { createGrpcFastPath } from "../../gateway/inference/grpc-fast-path.js";
import { parseContentType } from "../../gateway/protocol/content-type.js";
import { createConnectHandler } from "../../gateway/protocol-connect/connect-handler.js";
import {
  InferenceService,
  PredictBatchResponseSchema,
  PredictionSchema,
  PredictResponseSchema,
  type PredictStreamRequest,
  type PredictStreamResponse,
  PredictStreamResponseSchema,
} from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { runPredictStream } from "../../server/predict-stream.js";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });
const logger = createLogger({ level: "warn", name: "noop-inference" });
const prediction = create(PredictionSchema, { prediction: 0, probability: 0.98, probabilities: [0.98, 0.01, 0.01] });
const jsonAnswer = JSON.stringify({ prediction: 0, probability: 0.98, model_version: "noop", latency_ms: 0 });

const answer = create(PredictResponseSchema, { prediction, modelVersion: "noop", latencyMs: 0 });
const streamRoute = createGrpcFastPath({
  predictions: {
    predict: async (_context, read) => {
      await read();
      return answer;
    },
    predictBatch: async (_context, read) => {
      await read();
      return create(PredictBatchResponseSchema, { modelVersion: "noop" });
    },
    // The stream orchestration of the real server, over answers that cost nothing.
    predictStream: (context, sink) =>
      runPredictStream<PredictStreamRequest, PredictStreamResponse>(context, {
        ...sink,
        answer: async (req) => create(PredictStreamResponseSchema, { requestId: req.requestId, modelVersion: "noop" }),
        errorAnswer: (req) => create(PredictStreamResponseSchema, { requestId: req.requestId }),
      }),
  },
  admission: { admit: () => undefined, release: () => undefined },
  maxRequestBytes: 16 * 1024 * 1024,
  requestReadTimeoutMs: 30_000,
  logger,
});

const rpc = createConnectHandler({
  maxRequestBytes: 16 * 1024 * 1024,
  logger,
  routes: (router) =>
    router.service(InferenceService, {
      predict: () => ({ prediction, modelVersion: "noop", latencyMs: 0 }),
    }),
});

function predictJson(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.once("end", () => {
    JSON.parse(Buffer.concat(chunks).toString("utf8"));
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(jsonAnswer) });
    res.end(jsonAnswer);
  });
}

const server = await listenDualProtocol({
  host: "127.0.0.1",
  port: Number(values.port),
  logger,
  streamRoute,
  handler: (req, res) => {
    const enveloped = parseContentType(req.headers["content-type"])?.enveloped === true;
    if (req.url === "/predict" && req.method === "POST" && !enveloped) {
      predictJson(req, res);
    } else {
      rpc(req, res);
    }
  },
});
process.stdout.write(`noop inference server listening on ${server.url}\n`);
process.once("SIGTERM", () => {
  server.close(1000).then(() => process.exit(0));
});
