import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRegistryServer, type TestRegistryServer } from "../../test/support/registry-server.js";

type Json = Record<string, unknown>;

let server: TestRegistryServer;
let runId: string;

/** A Connect unary JSON call of TrackingService; `gzip` compresses the body. */
async function connect(method: string, body: Json, gzip = false): Promise<{ status: number; json: Json }> {
  const text = JSON.stringify(body);
  const res = await fetch(`${server.url}/mlpipe.tracking.v1.TrackingService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(gzip ? { "content-encoding": "gzip" } : {}) },
    body: gzip ? gzipSync(text) : text,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, json: (await res.json()) as Json };
}

/** An MLflow REST call (JSON body). */
async function mlflow(path: string, body: Json): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${server.url}/api/2.0/mlflow/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, json: (await res.json()) as Json };
}

/** The metrics GetRun reports for the run, by key. */
async function metricValues(): Promise<Record<string, unknown>> {
  const { json } = await connect("GetRun", { runId });
  const metrics = ((json.run as Json).data as Json).metrics as { key: string; value?: unknown }[] | undefined;
  return Object.fromEntries((metrics ?? []).map((m) => [m.key, m.value ?? 0]));
}

/** The field an mlpipe Connect error names (its ErrorDetail, decoded by the server's JSON error body). */
function expectInvalidField(answer: { status: number; json: Json }, field: string): void {
  expect(answer.status).toBe(400);
  expect(answer.json.code).toBe("invalid_argument");
  expect(String(answer.json.message)).toContain(field);
}

beforeAll(async () => {
  server = await startTestRegistryServer({ logLevel: "silent" });
  const created = await connect("CreateExperiment", { name: "null-values" });
  const experimentId = String((created.json.experiment as Json).experimentId);
  const run = await connect("CreateRun", { experimentId });
  runId = String(((run.json.run as Json).info as Json).runId);
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe('a metric "value": null is invalid_argument on every surface, never stored as 0 (issue 13, defect 7)', () => {
  it("Connect JSON LogMetric and LogBatch (plain and gzip bodies) name the null field", async () => {
    expectInvalidField(await connect("LogMetric", { runId, metric: { key: "loss", value: null } }), "metric.value");
    expectInvalidField(
      await connect("LogBatch", {
        runId,
        metrics: [
          { key: "a", value: 1 },
          { key: "loss", value: null },
        ],
      }),
      "metrics[1].value",
    );
    expectInvalidField(
      await connect("LogMetric", { runId, metric: { key: "loss", value: null } }, true),
      "metric.value",
    );
    expect(await metricValues()).toEqual({});
  });

  it("Connect JSON still takes 0, an absent value (proto3's 0, what protobuf JSON writers send) and NaN", async () => {
    expect((await connect("LogMetric", { runId, metric: { key: "zero", value: 0 } })).status).toBe(200);
    expect((await connect("LogMetric", { runId, metric: { key: "absent" } }, true)).status).toBe(200);
    expect((await connect("LogBatch", { runId, metrics: [{ key: "nan", value: "NaN" }] })).status).toBe(200);
    expect(await metricValues()).toEqual({ zero: 0, absent: 0, nan: "NaN" });
  });

  it("MLflow REST log-metric and log-batch answer INVALID_PARAMETER_VALUE", async () => {
    for (const answer of [
      await mlflow("runs/log-metric", { run_id: runId, key: "m1", value: null, timestamp: 1 }),
      await mlflow("runs/log-batch", { run_id: runId, metrics: [{ key: "m2", value: null, timestamp: 1, step: 0 }] }),
    ]) {
      expect(answer.status).toBe(400);
      expect(answer.json.error_code).toBe("INVALID_PARAMETER_VALUE");
      expect(String(answer.json.message)).toMatch(/value/);
    }
    expect(Object.keys(await metricValues()).sort()).toEqual(["absent", "nan", "zero"]);
  });
});
