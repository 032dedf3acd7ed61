/**
 * The many-row forms of the inference API over gRPC (grpc-js) and Connect (connect-node, HTTP/2):
 * PredictBatch answering raw output tensors only (RESPONSE_FORM_TENSORS), and PredictStream
 * messages carrying a tensor of rows, beside one-row messages in the same stream.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code as ConnectCode, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { Code } from "../../core/errors/index.js";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";
import {
  DataType,
  InferenceService,
  type PredictBatchRequestSchema,
  type PredictBatchResponse,
  type PredictStreamRequestSchema,
  type PredictStreamResponse,
  ResponseForm,
  type Tensor,
  type TensorSchema,
} from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { eachSurface as eachSurfaceOf } from "../../test/support/each-surface.js";
import { createGrpcClient, type GrpcClient, grpcErrorDetails, isServiceError } from "../../test/support/grpc-client.js";
import { startTestServer } from "../../test/support/inference-test-harness.js";
import { irisBias, irisWeights, referenceProbabilities, writeTestModels } from "../../test/support/onnx-models.js";

type BatchInit = MessageInitShape<typeof PredictBatchRequestSchema>;
type StreamInit = MessageInitShape<typeof PredictStreamRequestSchema>;
type TensorInit = MessageInitShape<typeof TensorSchema>;

/** The two client stacks under test, behind one shape. */
interface Surface {
  readonly name: string;
  predictBatch(req: BatchInit): Promise<PredictBatchResponse>;
  predictStream(reqs: StreamInit[]): Promise<PredictStreamResponse[]>;
  /** The status code of a rejected call, as a gRPC code number. */
  codeOf(err: unknown): number | undefined;
}

const rows = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
  [5.9, 3.0, 4.2, 1.5],
  [4.9, 3.1, 1.5, 0.1],
  [6.3, 3.3, 6.0, 2.5],
];

const f32 = (values: readonly number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
const float32Rows = (rs: readonly (readonly number[])[]): TensorInit => ({
  dtype: DataType.FLOAT32,
  shape: [BigInt(rs.length), 4n],
  data: f32(rs.flat()),
});

/** A response tensor's elements: little-endian bytes at any offset, copied out to an aligned buffer. */
function floats(t: Tensor | undefined): number[] {
  if (t === undefined) return [];
  if (t.dtype === DataType.FLOAT32) return [...new Float32Array(Uint8Array.from(t.data).buffer)];
  if (t.dtype === DataType.INT64) return [...new BigInt64Array(Uint8Array.from(t.data).buffer)].map(Number);
  throw new Error(`unexpected dtype ${t.dtype}`);
}

function expectOutputsOf(outputs: readonly Tensor[], rs: readonly (readonly number[])[]): void {
  const probs = outputs.find((o) => o.name === "probabilities");
  const label = outputs.find((o) => o.name === "label");
  expect(probs?.shape).toEqual([BigInt(rs.length), 3n]);
  expect(label?.shape).toEqual([BigInt(rs.length)]);
  const p = floats(probs);
  const labels = floats(label);
  rs.forEach((row, r) => {
    const want = referenceProbabilities(irisWeights, irisBias, row);
    want.forEach((w, c) => {
      expect(p[r * 3 + c]).toBeCloseTo(w, 4);
    });
    expect(labels[r]).toBe(want.indexOf(Math.max(...want)));
  });
}

let server: InferenceServer;
let grpcClient: GrpcClient<(typeof InferenceService)["method"]>;
const surfaces: Surface[] = [];

beforeAll(async () => {
  const models = writeTestModels();
  server = await startTestServer({ MODEL_PATH: models.iris, MAX_QUEUE_DELAY_US: "1000" });
  grpcClient = createGrpcClient(InferenceService, new URL(server.grpcUrl).host);
  const connect = createClient(
    InferenceService,
    createConnectTransport({ baseUrl: server.url, httpVersion: "2", useBinaryFormat: true }),
  );
  surfaces.push(
    {
      name: "grpc-js",
      predictBatch: (req) => grpcClient.predictBatch(req),
      async predictStream(reqs) {
        const out: PredictStreamResponse[] = [];
        for await (const r of grpcClient.predictStream(reqs)) out.push(r);
        return out;
      },
      codeOf: (err) => (isServiceError(err) ? err.code : undefined),
    },
    {
      name: "connect",
      predictBatch: (req) => connect.predictBatch(req),
      async predictStream(reqs) {
        const out: PredictStreamResponse[] = [];
        async function* input(): AsyncIterable<StreamInit> {
          yield* reqs;
        }
        for await (const r of connect.predictStream(input())) out.push(r);
        return out;
      },
      codeOf: (err) => (err instanceof ConnectError ? err.code : undefined),
    },
  );
});

afterAll(async () => {
  grpcClient?.close();
  await server?.shutdown();
});

/** Runs `body` once per client stack. */
function eachSurface(title: string, body: (s: Surface) => Promise<void>): void {
  eachSurfaceOf(surfaces, ["grpc-js", "connect"], title, body);
}

describe("PredictBatch with RESPONSE_FORM_TENSORS", () => {
  eachSurface("answers the raw output tensors only, with the right values", async (s) => {
    const res = await s.predictBatch({ inputs: float32Rows(rows), responseForm: ResponseForm.TENSORS });
    expect(res.predictions).toEqual([]);
    expect(res.modelVersion).toBe("1");
    expectOutputsOf(res.outputs, rows);
  });

  eachSurface("keeps per-row predictions when the form is unspecified or asks for them", async (s) => {
    for (const responseForm of [ResponseForm.UNSPECIFIED, ResponseForm.PREDICTIONS_AND_TENSORS]) {
      const res = await s.predictBatch({ inputs: float32Rows(rows), responseForm });
      expect(res.predictions.map((p) => p.prediction)).toEqual(floats(res.outputs.find((o) => o.name === "label")));
      expectOutputsOf(res.outputs, rows);
    }
  });

  eachSurface("rejects bad shapes and dtypes with INVALID_ARGUMENT", async (s) => {
    const bad: TensorInit[] = [
      { dtype: DataType.UNSPECIFIED, shape: [1n, 4n], data: f32(rows[0] ?? []) },
      { dtype: 99 as DataType, shape: [1n, 4n], data: f32(rows[0] ?? []) },
      { dtype: DataType.FLOAT32, shape: [2n, 4n], data: f32(rows[0] ?? []) },
      { dtype: DataType.FLOAT32, shape: [1n, 2n, 2n], data: f32(rows[0] ?? []) },
      { dtype: DataType.FLOAT64, shape: [1n, 4n], data: f32(rows[0] ?? []) },
      { dtype: DataType.FLOAT32, shape: [1n, 4n], data: f32([1, Number.POSITIVE_INFINITY, 3, 4]) },
    ];
    for (const inputs of bad) {
      const err = await s.predictBatch({ inputs, responseForm: ResponseForm.TENSORS }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(
        s.codeOf(err),
        JSON.stringify(inputs, (_k, v) => (typeof v === "bigint" ? String(v) : v)),
      ).toBe(Code.InvalidArgument);
    }
  });
});

describe("PredictStream with tensor messages", () => {
  eachSurface("answers a many-row message with per-row predictions and outputs, beside one-row messages", async (s) => {
    const responses = await s.predictStream([
      { requestId: "many", inputs: float32Rows(rows) },
      { requestId: "one", features: rows[1] ?? [] },
      { requestId: "fast", inputs: float32Rows(rows.slice(0, 2)), responseForm: ResponseForm.TENSORS },
    ]);
    const byId = new Map(responses.map((r) => [r.requestId, r]));
    expect(byId.size).toBe(3);

    const many = byId.get("many");
    expect(many?.result.case).toBeUndefined();
    expect(many?.modelVersion).toBe("1");
    expectOutputsOf(many?.outputs ?? [], rows);
    expect(many?.predictions.map((p) => p.prediction)).toEqual(floats(many?.outputs.find((o) => o.name === "label")));
    const want = referenceProbabilities(irisWeights, irisBias, rows[4] ?? []);
    expect(many?.predictions[4]?.probability).toBeCloseTo(Math.max(...want), 4);

    const one = byId.get("one")?.result;
    expect(one?.case).toBe("prediction");
    const oneWant = referenceProbabilities(irisWeights, irisBias, rows[1] ?? []);
    if (one?.case === "prediction") expect(one.value.prediction).toBe(oneWant.indexOf(Math.max(...oneWant)));

    const fast = byId.get("fast");
    expect(fast?.predictions).toEqual([]);
    expectOutputsOf(fast?.outputs ?? [], rows.slice(0, 2));
  });

  eachSurface("fails a bad tensor message alone, with INVALID_ARGUMENT and the field", async (s) => {
    const responses = await s.predictStream([
      { requestId: "shape", inputs: { dtype: DataType.FLOAT32, shape: [3n, 4n], data: f32(rows[0] ?? []) } },
      { requestId: "dtype", inputs: { dtype: DataType.UNSPECIFIED, shape: [1n, 4n], data: f32(rows[0] ?? []) } },
      { requestId: "cols", inputs: { dtype: DataType.FLOAT32, shape: [2n, 2n], data: f32(rows[0] ?? []) } },
      { requestId: "both", features: rows[0] ?? [], inputs: float32Rows(rows) },
      { requestId: "ok", inputs: float32Rows(rows), responseForm: ResponseForm.TENSORS },
    ]);
    const byId = new Map(responses.map((r) => [r.requestId, r]));
    const fields: Record<string, string> = {
      shape: "inputs.data",
      dtype: "inputs.dtype",
      cols: "inputs.shape",
      both: "features",
    };
    for (const [id, field] of Object.entries(fields)) {
      const result = byId.get(id)?.result;
      expect(result?.case, id).toBe("error");
      if (result?.case === "error") {
        expect(result.value, id).toMatchObject({ code: Code.InvalidArgument, id: "INFERENCE_INVALID_INPUT", field });
      }
    }
    expectOutputsOf(byId.get("ok")?.outputs ?? [], rows);
  });
});

describe("error details of the tensor forms", () => {
  it("grpc-js: a bad PredictBatch tensor carries the mlpipe error id", async () => {
    const err = await grpcClient
      .predictBatch({
        inputs: { dtype: DataType.FLOAT32, shape: [1n, 3n], data: f32([1, 2, 3]) },
        responseForm: ResponseForm.TENSORS,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    if (!isServiceError(err)) throw new Error(`expected a gRPC error, got ${String(err)}`);
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(grpcErrorDetails(err, ErrorDetailSchema)[0]).toMatchObject({
      id: "INFERENCE_INVALID_INPUT",
      field: "inputs.shape",
    });
  });

  it("connect: the same error is invalid_argument", async () => {
    const connect = createClient(
      InferenceService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "2", useBinaryFormat: true }),
    );
    const err = await connect
      .predictBatch({ inputs: { dtype: DataType.INT32, shape: [4n], data: f32([1, 2, 3]) } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err instanceof ConnectError ? err.code : err).toBe(ConnectCode.InvalidArgument);
  });
});
