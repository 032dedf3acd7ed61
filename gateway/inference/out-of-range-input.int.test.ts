/**
 * Issue 13, defect 4: numbers that do not fit the model's input type (the iris model takes
 * float32) are INVALID_ARGUMENT naming the element, on every surface, never a 200 with null or
 * NaN probabilities: JSON /predict, gRPC Predict, and float64 tensors over Connect and gRPC.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { Code } from "../../core/errors/index.js";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";
import { DataType, InferenceService, type TensorSchema } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { createGrpcClient, type GrpcClient, grpcError, grpcErrorDetails } from "../../test/support/grpc-client.js";
import { postJson, startTestServer } from "../../test/support/inference-test-harness.js";
import { writeTestModels } from "../../test/support/onnx-models.js";

const outOfRange = [1e39, -1e39, 1e308, -Number.MAX_VALUE];

const f64 = (values: readonly number[]): Uint8Array => new Uint8Array(Float64Array.from(values).buffer);
const float64Row = (values: readonly number[]): MessageInitShape<typeof TensorSchema> => ({
  dtype: DataType.FLOAT64,
  shape: [1n, BigInt(values.length)],
  data: f64(values),
});

let server: InferenceServer;
let grpc: GrpcClient<(typeof InferenceService)["method"]>;

beforeAll(async () => {
  server = await startTestServer({ MODEL_PATH: writeTestModels().iris });
  grpc = createGrpcClient(InferenceService, new URL(server.grpcUrl).host);
});

afterAll(async () => {
  grpc?.close();
  await server?.shutdown();
});

describe("values out of the model's input range", () => {
  it("JSON /predict: 400 invalid_argument naming the element, for features and instances", async () => {
    for (const v of outOfRange) {
      const one = await postJson(`${server.url}/predict`, { features: [v, 1, 2, 3] });
      expect(one.status, String(v)).toBe(400);
      expect(one.body.error).toMatchObject({ code: "invalid_argument", field: "features[0]" });
      const many = await postJson(`${server.url}/predict`, {
        instances: [
          [5.1, 3.5, 1.4, 0.2],
          [1, 2, v, 3],
        ],
      });
      expect(many.status, String(v)).toBe(400);
      expect(many.body.error).toMatchObject({ code: "invalid_argument", field: "instances[1][2]" });
    }
    // The largest float32 itself is fine (an answer, whatever the model makes of it).
    expect((await postJson(`${server.url}/predict`, { features: [3.4028234663852886e38, 1, 2, 3] })).status).toBe(200);
  });

  it("gRPC Predict: INVALID_ARGUMENT naming the element", async () => {
    const err = await grpcError(grpc.predict({ features: [1, 1e39, 2, 3] }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(grpcErrorDetails(err, ErrorDetailSchema)[0]?.field).toBe("features[1]");
  });

  it("float64 tensors over Connect (JSON and binary) and gRPC: INVALID_ARGUMENT, never NaN probabilities", async () => {
    for (const useBinaryFormat of [false, true]) {
      const connect = createClient(
        InferenceService,
        createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat }),
      );
      for (const v of outOfRange) {
        const err = await connect.predictBatch({ inputs: float64Row([5.1, 3.5, v, 0.2]) }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err instanceof ConnectError ? err.code : undefined, `${v} binary=${useBinaryFormat}`).toBe(
          Code.InvalidArgument,
        );
        expect((err as ConnectError).rawMessage).toContain("inputs.data[0][2]");
      }
      const ok = await connect.predictBatch({ inputs: float64Row([5.1, 3.5, 1.4, 0.2]) });
      expect(ok.predictions[0]?.probability).toBeGreaterThan(0.5);
    }
    const err = await grpcError(grpc.predictBatch({ inputs: float64Row([1e39, 3.5, 1.4, 0.2]) }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(grpcErrorDetails(err, ErrorDetailSchema)[0]?.field).toBe("inputs.data[0][0]");
  });
});
