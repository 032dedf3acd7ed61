/**
 * A Connect unary call whose Connect-Timeout-Ms passes while its large batch is read, queued or
 * computed is answered 504 deadline_exceeded (id DEADLINE_EXCEEDED), never with a late 200. Real
 * inference server and onnxruntime, raw fetch over a real socket.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";
import {
  DataType,
  PredictBatchRequestSchema,
  PredictBatchResponseSchema,
} from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { startTestServer } from "../../test/support/inference-test-harness.js";
import { writeTestModels } from "../../test/support/onnx-models.js";

const rows = 20_000;
let server: InferenceServer;

beforeAll(async () => {
  server = await startTestServer({ MODEL_PATH: writeTestModels().iris });
});

afterAll(async () => {
  await server?.shutdown();
});

/** A PredictBatch of `rows` iris rows, posted as Connect binary with these extra headers. */
async function predictBatch(headers: Record<string, string>): Promise<{ status: number; body: Buffer }> {
  const data = new Uint8Array(Float32Array.from({ length: rows * 4 }, (_, i) => (i % 7) + 0.5).buffer);
  const request = create(PredictBatchRequestSchema, {
    inputs: { dtype: DataType.FLOAT32, shape: [BigInt(rows), 4n], data },
  });
  const res = await fetch(`${server.url}/mlpipe.inference.v1.InferenceService/PredictBatch`, {
    method: "POST",
    headers: { "content-type": "application/proto", "connect-protocol-version": "1", ...headers },
    body: Buffer.from(toBinary(PredictBatchRequestSchema, request)),
  });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

describe("Connect-Timeout-Ms on a large batch", () => {
  it("answers 504 deadline_exceeded when the deadline passes first, and 200 without one", async () => {
    const late = await predictBatch({ "connect-timeout-ms": "1" });
    expect(late.status).toBe(504);
    const error = JSON.parse(late.body.toString("utf8")) as {
      code?: string;
      details?: { type?: string; value?: string }[];
    };
    expect(error.code).toBe("deadline_exceeded");
    const detail = error.details?.find((d) => d.type === "mlpipe.common.v1.ErrorDetail");
    expect(fromBinary(ErrorDetailSchema, Buffer.from(detail?.value ?? "", "base64")).id).toBe("DEADLINE_EXCEEDED");

    const onTime = await predictBatch({ "connect-timeout-ms": "60000" });
    expect(onTime.status).toBe(200);
    expect(fromBinary(PredictBatchResponseSchema, onTime.body).predictions).toHaveLength(rows);
  });
});
