/**
 * Load-generator clients of the inference API, one {@link Call} factory per protocol: gRPC
 * (@grpc/grpc-js, the client most gRPC users have), Connect binary and Connect JSON
 * (@connectrpc/connect-node over HTTP/2), and JSON POST /predict (node:http, HTTP/1.1 keep-alive,
 * as curl, requests or a browser would send it).
 *
 * Requests cycle through the iris corpus and are encoded once up front where the protocol allows,
 * so that the generator spends its CPU time on sending rather than on encoding; gRPC responses
 * are checked by status only (their bodies are not decoded) for the same reason.
 */
import http from "node:http";
import { create, fromBinary, type MessageInitShape, toBinary, toJsonString } from "@bufbuild/protobuf";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { GRPCInferenceService, ModelInferRequestSchema } from "../../gen/inference/v2/grpc_predict_v2_pb.js";
import {
  DataType,
  InferenceService,
  PredictBatchRequestSchema,
  type PredictRequest,
  PredictRequestSchema,
  PredictStreamRequestSchema,
  ResponseForm,
  StreamErrorSchema,
  type TensorSchema,
} from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { float32Batch } from "./iris-corpus.js";
import { type Call, HttpStatusError } from "./load-generator.js";

const servicePath = "/mlpipe.inference.v1.InferenceService";

/** The unary protocols a scenario can drive. */
export type UnaryProtocol = "grpc" | "connect-binary" | "connect-json" | "http-json";

/** A set of calls to one server, and how to release its connections. */
export interface InferenceClient {
  /** One single-row request (Predict, or POST /predict for http-json). */
  readonly predict: Call;
  close(): void;
}

function cycle<T>(items: readonly T[]): () => T {
  let i = 0;
  return () => {
    const item = items[i % items.length];
    i++;
    if (item === undefined) throw new Error("empty corpus");
    return item;
  };
}

const identity = (b: Buffer): Buffer => b;

/** A grpc-js channel to `url` (http://host:port), used raw: requests are pre-encoded bytes. */
function grpcClient(url: string): grpc.Client {
  return new grpc.Client(new URL(url).host, grpc.credentials.createInsecure(), {
    // The server accepts 16 MiB messages; the default 4 MiB client cap would cut large batches.
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
    "grpc.max_send_message_length": 64 * 1024 * 1024,
    // grpc-js keeps HTTP/2's 64 KiB receive window unless told otherwise: a 16384-row answer
    // (~330 KB) would then wait five round trips for WINDOW_UPDATEs. grpcio and grpc-go size theirs
    // from the bandwidth-delay product; this is the Node client's equivalent setting.
    "grpc-node.flow_control_window": 8 * 1024 * 1024,
  });
}

/**
 * A bound on every request, so that a server that stops answering ends a run with
 * DEADLINE_EXCEEDED counted as failures instead of hanging it. Far above any latency measured.
 */
export const requestTimeoutMs = 30_000;

function grpcUnary(client: grpc.Client, method: string, next: () => Buffer, service = servicePath): Call {
  const path = `${service}/${method}`;
  return () =>
    new Promise<void>((resolve, reject) => {
      client.makeUnaryRequest(path, identity, identity, next(), { deadline: Date.now() + requestTimeoutMs }, (err) =>
        err ? reject(err) : resolve(),
      );
    });
}

/** The JSON `POST /predict` body of each row (`{"features":[...]}`), as every http-json generator sends them. */
export function predictJsonBodies(rows: readonly (readonly number[])[]): string[] {
  return rows.map((r) => toJsonString(PredictRequestSchema, create(PredictRequestSchema, { features: [...r] })));
}

/** Single-row Predict calls to `url` over `protocol`. */
export function createInferenceClient(
  protocol: UnaryProtocol,
  url: string,
  rows: readonly (readonly number[])[],
): InferenceClient {
  const requests: PredictRequest[] = rows.map((r) => create(PredictRequestSchema, { features: [...r] }));
  switch (protocol) {
    case "grpc": {
      const client = grpcClient(url);
      const next = cycle(requests.map((r) => Buffer.from(toBinary(PredictRequestSchema, r))));
      return { predict: grpcUnary(client, "Predict", next), close: () => client.close() };
    }
    case "connect-binary":
    case "connect-json": {
      // Its own session manager, so that closing the client closes its HTTP/2 connection: an idle
      // session left open stays on the server under test for the next scenarios.
      const sessionManager = new Http2SessionManager(url);
      const client = createClient(
        InferenceService,
        createConnectTransport({
          baseUrl: url,
          httpVersion: "2",
          useBinaryFormat: protocol === "connect-binary",
          sessionManager,
        }),
      );
      const next = cycle(requests);
      return {
        predict: async () => {
          await client.predict(next(), { timeoutMs: requestTimeoutMs });
        },
        close: () => sessionManager.abort(),
      };
    }
    case "http-json": {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
      const target = new URL("/predict", url);
      const next = cycle(predictJsonBodies(rows).map((b) => Buffer.from(b)));
      const predict: Call = () =>
        new Promise<void>((resolve, reject) => {
          const body = next();
          const req = http.request(
            target,
            {
              method: "POST",
              agent,
              headers: { "content-type": "application/json", "content-length": body.length },
            },
            (res) => {
              res.on("data", () => undefined);
              res.once("end", () => {
                const status = res.statusCode ?? 0;
                if (status === 200) resolve();
                else reject(new HttpStatusError(status));
              });
              res.once("error", reject);
            },
          );
          req.once("error", reject);
          req.setTimeout(requestTimeoutMs, () => req.destroy(new HttpStatusError(408)));
          req.end(body);
        });
      return { predict, close: () => agent.destroy() };
    }
  }
}

/**
 * PredictBatch over gRPC with `rowsPerRequest` corpus rows as one float32 tensor per call, asking
 * for `form` (RESPONSE_FORM_TENSORS: raw output tensors only; PREDICTIONS_AND_TENSORS: also one
 * Prediction message per row, the form older clients get).
 */
export function createBatchClient(
  url: string,
  rows: readonly (readonly number[])[],
  rowsPerRequest: number,
  form: ResponseForm = ResponseForm.TENSORS,
): InferenceClient {
  const client = grpcClient(url);
  const body = Buffer.from(
    toBinary(
      PredictBatchRequestSchema,
      create(PredictBatchRequestSchema, { ...tensorRequest(rows, rowsPerRequest), responseForm: form }),
    ),
  );
  return { predict: grpcUnary(client, "PredictBatch", () => body), close: () => client.close() };
}

/**
 * The Open Inference Protocol's ModelInfer over gRPC with `rowsPerRequest` corpus rows as one FP32
 * input in `raw_input_contents` (as tritonclient sends them), answered with raw output contents:
 * the OIP counterpart of {@link createBatchClient}.
 */
export function createModelInferClient(
  url: string,
  rows: readonly (readonly number[])[],
  rowsPerRequest: number,
  modelName = "iris-classifier",
): InferenceClient {
  const client = grpcClient(url);
  const data = float32Batch(rows, rowsPerRequest);
  const body = Buffer.from(
    toBinary(
      ModelInferRequestSchema,
      create(ModelInferRequestSchema, {
        modelName,
        inputs: [{ name: "features", datatype: "FP32", shape: [BigInt(rowsPerRequest), 4n] }],
        rawInputContents: [new Uint8Array(data.buffer)],
      }),
    ),
  );
  return {
    predict: grpcUnary(client, "ModelInfer", () => body, `/${GRPCInferenceService.typeName}`),
    close: () => client.close(),
  };
}

/** `count` corpus rows as one float32 tensor [count, 4]. */
function tensorRequest(
  rows: readonly (readonly number[])[],
  count: number,
): { inputs: MessageInitShape<typeof TensorSchema> } {
  const data = float32Batch(rows, count);
  return {
    inputs: { dtype: DataType.FLOAT32, shape: [BigInt(count), 4n], data: new Uint8Array(data.buffer) },
  };
}

/**
 * Messages over `streams` long-lived gRPC PredictStream calls: each {@link Call} writes one message
 * on the next stream (round robin) and resolves when the response with its request_id arrives
 * (rejects with the message's error code). With `rowsPerMessage` 1 a message is one row
 * (`features`); above 1 it is a float32 tensor of that many rows (`inputs`) answered in
 * RESPONSE_FORM_TENSORS. Run it in a closed loop: the concurrency is the messages in flight.
 */
export function createStreamClient(
  url: string,
  rows: readonly (readonly number[])[],
  streams: number,
  rowsPerMessage = 1,
): InferenceClient {
  const client = grpcClient(url);
  const waiting = new Map<string, { resolve: () => void; reject: (err: unknown) => void }>();
  /** Set once a stream failed or ended: later rows fail at once instead of waiting forever. */
  let broken: unknown;
  const nextRow = cycle(rows);
  // Fields may come in any order and concatenated encodings merge: the tensor part is encoded once,
  // and each message is its request_id's bytes followed by it.
  const tensorPart =
    rowsPerMessage > 1
      ? Buffer.from(
          toBinary(
            PredictStreamRequestSchema,
            create(PredictStreamRequestSchema, {
              ...tensorRequest(rows, rowsPerMessage),
              responseForm: ResponseForm.TENSORS,
            }),
          ),
        )
      : undefined;
  const encode = (requestId: string): Buffer =>
    tensorPart === undefined
      ? Buffer.from(
          toBinary(
            PredictStreamRequestSchema,
            create(PredictStreamRequestSchema, { requestId, features: [...nextRow()] }),
          ),
        )
      : Buffer.concat([
          Buffer.from(toBinary(PredictStreamRequestSchema, create(PredictStreamRequestSchema, { requestId }))),
          tensorPart,
        ]);
  let id = 0;
  const calls = Array.from({ length: streams }, () => {
    const call = client.makeBidiStreamRequest(
      `${servicePath}/PredictStream`,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    call.on("data", (b: Buffer) => {
      const r = fromStreamResponse(b);
      const w = waiting.get(r.requestId);
      if (w === undefined) return;
      waiting.delete(r.requestId);
      if (r.errorCode === undefined) w.resolve();
      else w.reject({ code: r.errorCode });
    });
    const fail = (err: unknown): void => {
      broken ??= err;
      for (const w of waiting.values()) w.reject(err);
      waiting.clear();
    };
    call.on("error", fail);
    call.on("end", () => fail({ code: "stream_ended" }));
    return call;
  });
  let turn = 0;
  const predict: Call = () =>
    new Promise<void>((resolve, reject) => {
      if (broken !== undefined) {
        reject(broken);
        return;
      }
      const requestId = String(id++);
      waiting.set(requestId, { resolve, reject });
      const call = calls[turn++ % calls.length];
      if (call === undefined) throw new Error("no stream");
      call.write(encode(requestId));
    });
  return {
    predict,
    close: () => {
      for (const c of calls) c.end();
      client.close();
    },
  };
}

/**
 * The request_id and error code of a PredictStreamResponse, read without decoding the rest (the
 * output tensors of a many-row message are skipped, not copied).
 */
function fromStreamResponse(b: Buffer): { requestId: string; errorCode: number | undefined } {
  const reader = new BinaryReader(b);
  let requestId = "";
  let errorCode: number | undefined;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) requestId = reader.string();
    else if (field === 3) errorCode = fromBinary(StreamErrorSchema, reader.bytes()).code;
    else reader.skip(wireType);
  }
  return { requestId, errorCode };
}
