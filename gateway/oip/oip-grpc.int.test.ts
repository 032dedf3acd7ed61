/**
 * inference.GRPCInferenceService (the Open Inference Protocol over gRPC) against a real server
 * and onnxruntime, through grpc-js (ModelInfer and ModelStreamInfer take the gRPC fast path) and
 * connect-node (the Connect protocol over HTTP/2): raw and typed contents, output selection,
 * metadata, health, streams, and the errors the other surfaces give for the same bad inputs.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { Code } from "../../core/errors/index.js";
import {
  GRPCInferenceService,
  type ModelInferRequestSchema,
  type ModelInferResponse,
  ModelInferResponseSchema,
  type ModelStreamInferResponse,
} from "../../gen/inference/v2/grpc_predict_v2_pb.js";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";
import { eachSurface as eachSurfaceOf } from "../../test/support/each-surface.js";
import { createGrpcClient, type GrpcClient, grpcError, grpcErrorDetails } from "../../test/support/grpc-client.js";
import { readMetric, startTestServer } from "../../test/support/inference-test-harness.js";
import { irisBias, irisWeights, referenceProbabilities, writeTestModels } from "../../test/support/onnx-models.js";

/** A request as plain fields (no $typeName), so that requests can be spread into variants. */
type InferInit = Exclude<MessageInitShape<typeof ModelInferRequestSchema>, { $typeName: string }>;

const rows = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
];
const model = "iris-classifier";
const f32 = (values: readonly number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);

/** A request with raw contents, as tritonclient sends it. */
const rawRequest = (extra: Partial<InferInit> = {}): InferInit => ({
  modelName: model,
  id: "r1",
  inputs: [{ name: "features", datatype: "FP32", shape: [BigInt(rows.length), 4n] }],
  rawInputContents: [f32(rows.flat())],
  ...extra,
});

/** A request with typed contents. */
const typedRequest = (extra: Partial<InferInit> = {}): InferInit => ({
  modelName: model,
  inputs: [
    { name: "features", datatype: "FP32", shape: [BigInt(rows.length), 4n], contents: { fp32Contents: rows.flat() } },
  ],
  ...extra,
});

function expectedLabels(rs: readonly (readonly number[])[]): number[] {
  return rs.map((row) => {
    const p = referenceProbabilities(irisWeights, irisBias, row);
    return p.indexOf(Math.max(...p));
  });
}

/** The probabilities and labels of an answer, from raw or typed contents. */
function readAnswer(res: ModelInferResponse): { probabilities: number[]; labels: number[] } {
  const index = (name: string) => res.outputs.findIndex((o) => o.name === name);
  const p = index("probabilities");
  const l = index("label");
  if (res.rawOutputContents.length > 0) {
    const bytes = (i: number) => Uint8Array.from(res.rawOutputContents[i] ?? []).buffer;
    return {
      probabilities: p < 0 ? [] : [...new Float32Array(bytes(p))],
      labels: l < 0 ? [] : [...new BigInt64Array(bytes(l))].map(Number),
    };
  }
  return {
    probabilities: res.outputs[p]?.contents?.fp32Contents ?? [],
    labels: (res.outputs[l]?.contents?.int64Contents ?? []).map(Number),
  };
}

function expectIris(res: ModelInferResponse, rs: readonly (readonly number[])[]): void {
  const { probabilities, labels } = readAnswer(res);
  expect(labels).toEqual(expectedLabels(rs));
  rs.forEach((row, r) => {
    referenceProbabilities(irisWeights, irisBias, row).forEach((w, c) => {
      expect(probabilities[r * 3 + c]).toBeCloseTo(w, 4);
    });
  });
}

interface Surface {
  readonly name: string;
  modelInfer(req: InferInit): Promise<ModelInferResponse>;
  modelStreamInfer(reqs: InferInit[]): Promise<ModelStreamInferResponse[]>;
  /** The status code and ErrorDetail id of a refused call. */
  refusal(call: Promise<unknown>): Promise<{ code: number; id: string | undefined; message: string }>;
}

let server: InferenceServer;
let grpcClient: GrpcClient<(typeof GRPCInferenceService)["method"]>;
let connect: ReturnType<typeof createClient<typeof GRPCInferenceService>>;
const surfaces: Surface[] = [];

beforeAll(async () => {
  server = await startTestServer({ MODEL_PATH: writeTestModels().iris, MAX_QUEUE_DELAY_US: "1000" });
  grpcClient = createGrpcClient(GRPCInferenceService, new URL(server.grpcUrl).host);
  connect = createClient(
    GRPCInferenceService,
    createConnectTransport({ baseUrl: server.url, httpVersion: "2", useBinaryFormat: true }),
  );
  surfaces.push(
    {
      name: "grpc-js",
      modelInfer: (req) => grpcClient.modelInfer(req),
      async modelStreamInfer(reqs) {
        const out: ModelStreamInferResponse[] = [];
        for await (const r of grpcClient.modelStreamInfer(reqs)) out.push(r);
        return out;
      },
      async refusal(call) {
        const err = await grpcError(call);
        return { code: err.code, id: grpcErrorDetails(err, ErrorDetailSchema)[0]?.id, message: err.details };
      },
    },
    {
      name: "connect",
      modelInfer: (req) => connect.modelInfer(req),
      async modelStreamInfer(reqs) {
        const out: ModelStreamInferResponse[] = [];
        async function* input(): AsyncIterable<InferInit> {
          yield* reqs;
        }
        for await (const r of connect.modelStreamInfer(input())) out.push(r);
        return out;
      },
      async refusal(call) {
        const err = await call.then(
          () => undefined,
          (e: unknown) => e,
        );
        if (!(err instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${String(err)}`);
        return { code: err.code, id: err.findDetails(ErrorDetailSchema)[0]?.id, message: err.rawMessage };
      },
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

describe("ModelInfer", () => {
  eachSurface("answers raw contents with raw_output_contents, echoing the id", async (s) => {
    const res = await s.modelInfer(rawRequest());
    expect(res).toMatchObject({ modelName: model, modelVersion: "1", id: "r1" });
    expect(res.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ["label", "INT64", [2n]],
      ["probabilities", "FP32", [2n, 3n]],
    ]);
    expect(res.outputs.every((o) => o.contents === undefined)).toBe(true);
    expectIris(res, rows);
  });

  eachSurface("answers typed contents with typed contents, for FP32, FP64, INT32 and INT64", async (s) => {
    expectIris(await s.modelInfer(typedRequest()), rows);
    const shape = [BigInt(rows.length), 4n];
    const ints = rows.map((r) => r.map(Math.round));
    const typed: [string, NonNullable<InferInit["inputs"]>[number]["contents"], number[][]][] = [
      ["FP64", { fp64Contents: rows.flat() }, rows],
      ["INT32", { intContents: ints.flat() }, ints],
      ["INT64", { int64Contents: ints.flat().map(BigInt) }, ints],
    ];
    for (const [datatype, contents, rs] of typed) {
      const res = await s.modelInfer({ modelName: model, inputs: [{ name: "features", datatype, shape, contents }] });
      expect(res.rawOutputContents).toEqual([]);
      expectIris(res, rs);
    }
  });

  eachSurface("answers only the outputs asked for, by version number, stage or alias", async (s) => {
    const res = await s.modelInfer(rawRequest({ modelVersion: "1", outputs: [{ name: "probabilities" }] }));
    expect(res.outputs.map((o) => o.name)).toEqual(["probabilities"]);
    expect(res.rawOutputContents).toHaveLength(1);
    expect((await s.modelInfer(rawRequest({ modelVersion: "latest" }))).modelVersion).toBe("1");
  });

  const bad: [string, InferInit, Code, string, RegExp][] = [
    [
      "an unknown model",
      rawRequest({ modelName: "resnet" }),
      Code.NotFound,
      "INFERENCE_MODEL_NOT_FOUND",
      /"resnet" is not served/,
    ],
    [
      "an unknown version",
      rawRequest({ modelVersion: "9" }),
      Code.NotFound,
      "INFERENCE_MODEL_VERSION_NOT_FOUND",
      /"9"/,
    ],
    ["no inputs", { modelName: model }, Code.InvalidArgument, "INFERENCE_INVALID_INPUT", /inputs: must hold/],
    [
      "a BOOL tensor",
      rawRequest({ inputs: [{ name: "features", datatype: "BOOL", shape: [2n, 4n] }] }),
      Code.InvalidArgument,
      "INFERENCE_INVALID_INPUT",
      /"BOOL" is not one of FP32/,
    ],
    [
      "raw contents that do not fill the shape",
      rawRequest({ rawInputContents: [f32([1, 2, 3])] }),
      Code.InvalidArgument,
      "INFERENCE_INVALID_INPUT",
      /inputs\[0\]\.data: expected 32 bytes/,
    ],
    [
      "raw contents for fewer tensors than inputs",
      rawRequest({ rawInputContents: [], inputs: [{ name: "features", datatype: "FP32", shape: [2n, 4n] }] }),
      Code.InvalidArgument,
      "INFERENCE_INVALID_INPUT",
      /inputs\[0\]\.contents: expected 8 elements/,
    ],
    [
      "both raw and typed contents",
      rawRequest({
        inputs: [{ name: "features", datatype: "FP32", shape: [2n, 4n], contents: { fp32Contents: rows.flat() } }],
      }),
      Code.InvalidArgument,
      "INFERENCE_INVALID_INPUT",
      /must not be set with raw_input_contents/,
    ],
    [
      "a wrong input name",
      typedRequest({
        inputs: [{ name: "x", datatype: "FP32", shape: [1n, 4n], contents: { fp32Contents: [1, 2, 3, 4] } }],
      }),
      Code.InvalidArgument,
      "INFERENCE_INVALID_INPUT",
      /the model's input is "features"/,
    ],
    [
      "a non-finite value",
      rawRequest({ rawInputContents: [f32([1, 2, 3, Number.NaN, 1, 2, 3, 4])] }),
      Code.InvalidArgument,
      "INFERENCE_INVALID_INPUT",
      /inputs\[0\]\.data\[0\]\[3\]: must be finite/,
    ],
    [
      "an unknown output",
      rawRequest({ outputs: [{ name: "logits" }] }),
      Code.InvalidArgument,
      "INFERENCE_INVALID_INPUT",
      /no output "logits"/,
    ],
  ];
  for (const [what, req, code, id, message] of bad) {
    eachSurface(`refuses ${what}`, async (s) => {
      const refusal = await s.refusal(s.modelInfer(req));
      expect(refusal).toMatchObject({ code, id });
      expect(refusal.message).toMatch(message);
    });
  }

  it("counts ModelInfer calls on the fast path under protocol grpc", async () => {
    const before = await readMetric(server.url, "prediction_requests_total", { protocol: "grpc", code: "ok" });
    await grpcClient.modelInfer(rawRequest());
    expect(await readMetric(server.url, "prediction_requests_total", { protocol: "grpc", code: "ok" })).toBe(
      before + 1,
    );
  });
});

describe("ModelStreamInfer", () => {
  eachSurface("answers each request, a bad one with its error_message, and keeps the stream open", async (s) => {
    const answers = await s.modelStreamInfer([
      rawRequest({ id: "a" }),
      rawRequest({ id: "b", modelName: "resnet" }),
      typedRequest({ id: "c" }),
    ]);
    // Each answer is sent as soon as it is ready (a failed request's at once): clients match them by id.
    const byId = new Map(answers.map((x) => [x.inferResponse?.id, x]));
    expect([...byId.keys()].sort()).toEqual(["a", "b", "c"]);
    const [a, b, c] = ["a", "b", "c"].map((id) => byId.get(id));
    expect(a?.errorMessage).toBe("");
    expectIris(a?.inferResponse ?? create(ModelInferResponseSchema), rows);
    expect(b?.errorMessage).toMatch(/"resnet" is not served/);
    expectIris(c?.inferResponse ?? create(ModelInferResponseSchema), rows);
  });
});

describe("health and metadata", () => {
  eachSurface("answers ServerLive, ServerReady, ServerMetadata, ModelReady and ModelMetadata", async (s) => {
    const client = s.name === "grpc-js" ? grpcClient : connect;
    expect((await client.serverLive({})).live).toBe(true);
    expect((await client.serverReady({})).ready).toBe(true);
    expect(await client.serverMetadata({})).toMatchObject({ name: "mlpipe", extensions: ["binary_tensor_data"] });
    expect((await client.modelReady({ name: model })).ready).toBe(true);
    expect((await client.modelReady({ name: model, version: "1" })).ready).toBe(true);
    expect(await s.refusal(client.modelReady({ name: model, version: "3" }))).toMatchObject({ code: Code.NotFound });
    const meta = await client.modelMetadata({ name: model });
    expect(meta).toMatchObject({ name: model, versions: ["1"], platform: "onnxruntime_onnx" });
    expect(meta.inputs.map((t) => [t.name, t.datatype, t.shape])).toEqual([["features", "FP32", [-1n, 4n]]]);
    expect(meta.outputs.map((t) => [t.name, t.datatype])).toEqual([
      ["label", "INT64"],
      ["probabilities", "FP32"],
    ]);
    expect(await s.refusal(client.modelMetadata({ name: "resnet" }))).toMatchObject({
      code: Code.NotFound,
      id: "INFERENCE_MODEL_NOT_FOUND",
    });
  });
});
