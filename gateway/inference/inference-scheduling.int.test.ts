/**
 * Batching, deadlines, cancellation and overload, observed from outside through real sockets and
 * /metrics. The server waits up to 10 s for a batch of 4 rows to fill, so what is queued stays
 * queued until the test acts: nothing here depends on timing.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";
import { DataType, InferenceService } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { createGrpcClient, type GrpcClient, grpcError, grpcErrorDetails } from "../../test/support/grpc-client.js";
import { postJson, readMetric, startTestServer, until } from "../../test/support/inference-test-harness.js";
import { writeTestModels } from "../../test/support/onnx-models.js";

const setosa = [5.1, 3.5, 1.4, 0.2];
let server: InferenceServer;
let client: GrpcClient<(typeof InferenceService)["method"]>;

beforeAll(async () => {
  server = await startTestServer({
    MODEL_PATH: writeTestModels().iris,
    MAX_BATCH_SIZE: "4",
    MAX_QUEUE_DELAY_US: "10000000",
    MAX_QUEUE_SIZE: "4",
  });
  client = createGrpcClient(InferenceService, new URL(server.grpcUrl).host);
});

afterAll(async () => {
  client?.close();
  await server?.shutdown();
});

const metric = (name: string, labels: Record<string, string> = {}) => readMetric(server.url, name, labels);
const computedRows = () => metric("inference_computed_rows_total");
const queueDepth = () => metric("inference_queue_depth");

describe("dynamic batching", () => {
  it("merges concurrent requests from HTTP and gRPC into one batch, answering each", async () => {
    const batches = await metric("inference_batch_size_count");
    const rows = await metric("inference_batch_size_sum");
    const results = await Promise.all([
      postJson(`${server.url}/predict`, { features: setosa }).then((r) => r.status),
      postJson(`${server.url}/predict`, { features: setosa }).then((r) => r.status),
      client.predict({ features: setosa }).then((r) => (r.modelVersion === "1" ? 200 : 0)),
      client.predict({ features: setosa }).then((r) => (r.modelVersion === "1" ? 200 : 0)),
    ]);
    expect(results).toEqual([200, 200, 200, 200]);
    expect(await metric("inference_batch_size_count")).toBe(batches + 1);
    expect(await metric("inference_batch_size_sum")).toBe(rows + 4);
  });
});

describe("deadlines in the queue", () => {
  it("drops a request whose deadline passes while queued, never computing it, on every surface", async () => {
    const computed = await computedRows();
    const dropped = await metric("inference_dropped_requests_total", { reason: "deadline" });

    const http = await postJson(
      `${server.url}/predict`,
      { features: setosa },
      { headers: { "x-request-timeout-ms": "50" } },
    );
    expect(http.status).toBe(504);
    expect(http.body.error).toMatchObject({ code: "deadline_exceeded", id: "DEADLINE_EXCEEDED" });

    const viaConnectHeader = await postJson(
      `${server.url}/predict`,
      { features: setosa },
      { headers: { "connect-timeout-ms": "50" } },
    );
    expect(viaConnectHeader.status).toBe(504);

    const connect = await postJson(
      `${server.url}/mlpipe.inference.v1.InferenceService/Predict`,
      { features: setosa },
      { headers: { "connect-timeout-ms": "50" } },
    );
    expect(connect.body).toMatchObject({ code: "deadline_exceeded" });

    const err = await grpcError(client.predict({ features: setosa }, { deadline: new Date(Date.now() + 50) }));
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);

    await until(async () => (await metric("inference_dropped_requests_total", { reason: "deadline" })) === dropped + 4);
    expect(await computedRows()).toBe(computed);
    expect(await queueDepth()).toBe(0);
  });
});

describe("clients that go away", () => {
  it("drops a queued HTTP request whose client disconnected, and a canceled gRPC call, never computing them", async () => {
    const computed = await computedRows();
    const canceled = await metric("inference_dropped_requests_total", { reason: "canceled" });

    const abort = new AbortController();
    const pending = postJson(`${server.url}/predict`, { features: setosa }, { signal: abort.signal }).catch(
      () => "aborted",
    );
    await until(async () => (await queueDepth()) === 1);
    abort.abort();
    expect(await pending).toBe("aborted");
    await until(
      async () => (await metric("inference_dropped_requests_total", { reason: "canceled" })) === canceled + 1,
    );

    const raw = new grpc.Client(new URL(server.grpcUrl).host, grpc.credentials.createInsecure());
    try {
      const done = new Promise<grpc.ServiceError | null>((resolve) => {
        const call = raw.makeUnaryRequest(
          "/mlpipe.inference.v1.InferenceService/Predict",
          () => Buffer.from([0x0a, 0x20, ...new Uint8Array(Float64Array.from(setosa).buffer)]),
          (b: Buffer) => b,
          {},
          (err) => resolve(err),
        );
        void until(async () => (await queueDepth()) === 1).then(() => call.cancel());
      });
      expect((await done)?.code).toBe(grpc.status.CANCELLED);
    } finally {
      raw.close();
    }
    await until(
      async () => (await metric("inference_dropped_requests_total", { reason: "canceled" })) === canceled + 2,
    );
    expect(await computedRows()).toBe(computed);
    expect(await queueDepth()).toBe(0);
  });
});

describe("overload", () => {
  it("fails fast with 429 + Retry-After and RESOURCE_EXHAUSTED when the queue is full", async () => {
    const aborts = [new AbortController(), new AbortController(), new AbortController()];
    const queued = aborts.map((a) =>
      postJson(`${server.url}/predict`, { features: setosa }, { signal: a.signal }).catch(() => "aborted"),
    );
    await until(async () => (await queueDepth()) === 3);

    const http = await postJson(`${server.url}/predict`, { instances: [setosa, setosa] });
    expect(http.status).toBe(429);
    expect(http.headers.get("retry-after")).toBe("1");
    expect(http.body.error).toMatchObject({ code: "resource_exhausted", id: "INFERENCE_QUEUE_FULL" });

    const data = new Uint8Array(Float32Array.from([...setosa, ...setosa]).buffer);
    const err = await grpcError(client.predictBatch({ inputs: { dtype: DataType.FLOAT32, shape: [2n, 4n], data } }));
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(grpcErrorDetails(err, ErrorDetailSchema)[0]?.id).toBe("INFERENCE_QUEUE_FULL");

    const tooBig = await postJson(`${server.url}/predict`, { instances: Array(5).fill(setosa) });
    expect(tooBig.status).toBe(400);

    for (const a of aborts) a.abort();
    expect(await Promise.all(queued)).toEqual(["aborted", "aborted", "aborted"]);
    await until(async () => (await queueDepth()) === 0);
  });
});
