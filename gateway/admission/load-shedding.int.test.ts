/**
 * Load shedding at the edge (issue 4): with MAX_IN_FLIGHT_REQUESTS=2 and two prediction requests
 * held in flight by the test handler's latch, every further prediction request is refused at once
 * on every surface, unread, with 429 + Retry-After / RESOURCE_EXHAUSTED and INFERENCE_OVERLOADED,
 * while health, metrics and model info still answer; once released, the held requests complete and
 * new ones are admitted again. The event-loop check is off, so nothing here depends on timing.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";
import { DataType, InferenceService } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { createGrpcClient, type GrpcClient, grpcError, grpcErrorDetails } from "../../test/support/grpc-client.js";
import {
  postJson,
  readMetric,
  startTestServer,
  testHandlerPath,
  until,
} from "../../test/support/inference-test-harness.js";
import { writeTestModels } from "../../test/support/onnx-models.js";

const setosa = [5.1, 3.5, 1.4, 0.2];
/** A row the test handler holds in its worker until the latch file exists. */
const held = [7777, 3.5, 1.4, 0.2];
const predictPath = "/mlpipe.inference.v1.InferenceService/Predict";
const streamPath = "/mlpipe.inference.v1.InferenceService/PredictStream";

let server: InferenceServer;
let client: GrpcClient<(typeof InferenceService)["method"]>;
let health: GrpcClient<(typeof Health)["method"]>;
const latch = join(mkdtempSync(join(tmpdir(), "mlpipe-latch-")), "release");

beforeAll(async () => {
  process.env.TEST_HANDLER_LATCH = latch;
  server = await startTestServer({
    MODEL_PATH: writeTestModels().iris,
    MODEL_HANDLER: testHandlerPath,
    MAX_IN_FLIGHT_REQUESTS: "2",
    MAX_EVENT_LOOP_DELAY_MS: "0",
  });
  client = createGrpcClient(InferenceService, new URL(server.grpcUrl).host);
  health = createGrpcClient(Health, new URL(server.grpcUrl).host);
});

afterAll(async () => {
  writeFileSync(latch, "");
  client?.close();
  health?.close();
  await server?.shutdown();
});

/** A length-prefixed message frame (gRPC-Web, Connect streaming) with `flags` and `payload`. */
function envelope(flags: number, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(payload.byteLength, 1);
  return Buffer.concat([head, payload]);
}

const shed = (labels: Record<string, string>) => readMetric(server.url, "inference_shed_requests_total", labels);

describe("load shedding beyond MAX_IN_FLIGHT_REQUESTS", () => {
  it("refuses prediction requests at once on every surface, never health or metrics, and admits again once requests finish", async () => {
    const first = postJson(`${server.url}/predict`, { features: held });
    const second = client.predict({ features: held });
    await until(async () => (await readMetric(server.url, "inference_in_flight_requests")) === 2);
    const computed = await readMetric(server.url, "inference_computed_rows_total");

    // JSON routes: 429 + Retry-After and the catalogued error, whatever the body (it is never read).
    for (const [path, body] of [
      ["/predict", { features: setosa }],
      ["/predict/batch", { instances: [setosa] }],
      ["/predict", "not even JSON"],
    ] as const) {
      const res = await postJson(`${server.url}${path}`, body);
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(res.body.error).toMatchObject({ code: "resource_exhausted", id: "INFERENCE_OVERLOADED" });
    }

    // gRPC: RESOURCE_EXHAUSTED with the ErrorDetail, for unary, batch and stream calls.
    const unary = await grpcError(client.predict({ features: setosa }));
    expect(unary.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(unary.details).toMatch(/overloaded \(too many requests in flight\)/);
    expect(grpcErrorDetails(unary, ErrorDetailSchema)[0]?.id).toBe("INFERENCE_OVERLOADED");
    expect(unary.metadata.get("grpc-retry-pushback-ms")).toEqual(["1000"]);
    const data = new Uint8Array(Float32Array.from(setosa).buffer);
    const batch = await grpcError(client.predictBatch({ inputs: { dtype: DataType.FLOAT32, shape: [1n, 4n], data } }));
    expect(batch.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const stream = await grpcError(
      (async () => {
        for await (const _ of client.predictStream([{ requestId: "a", features: setosa }])) {
          // A refused stream yields nothing.
        }
      })(),
    );
    expect(stream.code).toBe(grpc.status.RESOURCE_EXHAUSTED);

    // Connect unary (JSON): 429 + Retry-After with the Connect error body.
    const connect = await postJson(`${server.url}${predictPath}`, { features: setosa });
    expect(connect.status).toBe(429);
    expect(connect.headers.get("retry-after")).toBe("1");
    expect(connect.body).toMatchObject({ code: "resource_exhausted" });

    // Connect streaming: an end-of-stream frame carrying the error.
    const connectStream = await fetch(`${server.url}${streamPath}`, {
      method: "POST",
      headers: { "content-type": "application/connect+json", "connect-protocol-version": "1" },
      body: envelope(0, Buffer.from(JSON.stringify({ requestId: "a", features: setosa }))),
    });
    expect(connectStream.status).toBe(200);
    const frame = Buffer.from(await connectStream.arrayBuffer());
    expect(frame.readUInt8(0)).toBe(0x02);
    expect(JSON.parse(frame.subarray(5).toString("utf8"))).toMatchObject({ error: { code: "resource_exhausted" } });

    // gRPC-Web: the status in the headers of an empty (trailers-only) response.
    const web = await fetch(`${server.url}${predictPath}`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: envelope(0, new Uint8Array(0)),
    });
    expect(web.status).toBe(200);
    expect(web.headers.get("grpc-status")).toBe(String(grpc.status.RESOURCE_EXHAUSTED));
    expect((await web.arrayBuffer()).byteLength).toBe(0);

    // Never shed: health, metrics, docs, model info, gRPC health and ModelInfo.
    for (const path of ["/health", "/health/live", "/health/ready", "/metrics", "/model/info", "/docs/openapi.json"]) {
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(200);
    }
    expect((await health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await client.modelInfo({})).name).toBe("iris-classifier");

    expect(await shed({ protocol: "http", reason: "in_flight" })).toBe(3);
    expect(await shed({ protocol: "grpc", reason: "in_flight" })).toBe(3);
    expect(await shed({ protocol: "connect", reason: "in_flight" })).toBe(2);
    expect(await shed({ protocol: "grpc_web", reason: "in_flight" })).toBe(1);
    expect(
      await readMetric(server.url, "prediction_requests_total", { protocol: "http", code: "resource_exhausted" }),
    ).toBe(3);
    // Nothing refused was computed.
    expect(await readMetric(server.url, "inference_computed_rows_total")).toBe(computed);

    // The admitted requests complete.
    writeFileSync(latch, "");
    const [a, b] = await Promise.all([first, second]);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ prediction: 0 });
    expect(b.prediction?.prediction).toBe(0);

    // And once their responses are done, requests are admitted again.
    await until(async () => (await postJson(`${server.url}/predict`, { features: setosa })).status === 200);
    expect((await client.predict({ features: setosa })).modelVersion).toBe("1");
  });
});
