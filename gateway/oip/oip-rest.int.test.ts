/**
 * The Open Inference Protocol v2 REST API, with requests written from the KServe v2 specification
 * (https://github.com/kserve/open-inference-protocol, specification/protocol/inference_rest.md)
 * and Triton's binary tensor data extension, against a real server and onnxruntime; the bad inputs
 * the /predict route refuses get the protocol's `{"error": "..."}` with the same statuses.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InferenceServer } from "../../app/inference-server.js";
import { postJson, readMetric, startTestServer } from "../../test/support/inference-test-harness.js";
import { irisBias, irisWeights, referenceProbabilities, writeTestModels } from "../../test/support/onnx-models.js";

const rows = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
  [5.9, 3.0, 4.2, 1.5],
];
const model = "iris-classifier";
let server: InferenceServer;
let v2 = "";

beforeAll(async () => {
  server = await startTestServer({
    MODEL_PATH: writeTestModels().iris,
    MAX_QUEUE_DELAY_US: "1000",
    MAX_REQUEST_BYTES: "65536",
  });
  v2 = `${server.url}/v2`;
});

afterAll(async () => {
  await server?.shutdown();
});

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${v2}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The request of the spec's example: one FP32 input tensor. */
function inferRequest(data: unknown = rows, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { inputs: [{ name: "features", shape: [rows.length, 4], datatype: "FP32", data }], ...extra };
}

function expectIris(outputs: unknown, rs: readonly (readonly number[])[]): void {
  const list = outputs as { name: string; datatype: string; shape: number[]; data: number[] }[];
  const probs = list.find((o) => o.name === "probabilities");
  const label = list.find((o) => o.name === "label");
  expect(probs).toMatchObject({ datatype: "FP32", shape: [rs.length, 3] });
  expect(label).toMatchObject({ datatype: "INT64", shape: [rs.length] });
  rs.forEach((row, r) => {
    const want = referenceProbabilities(irisWeights, irisBias, row);
    want.forEach((w, c) => {
      expect(probs?.data[r * 3 + c]).toBeCloseTo(w, 4);
    });
    expect(label?.data[r]).toBe(want.indexOf(Math.max(...want)));
  });
}

describe("server and model endpoints", () => {
  it("GET /v2 answers the server metadata with its extensions", async () => {
    const res = await get("");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: "mlpipe", version: expect.any(String), extensions: ["binary_tensor_data"] });
  });

  it("answers health live and ready", async () => {
    expect(await get("/health/live")).toEqual({ status: 200, body: { live: true } });
    expect(await get("/health/ready")).toEqual({ status: 200, body: { ready: true } });
  });

  it("answers model metadata with the protocol's data types, by name and by version, stage or alias", async () => {
    const expected = {
      name: model,
      versions: ["1"],
      platform: "onnxruntime_onnx",
      inputs: [{ name: "features", datatype: "FP32", shape: [-1, 4] }],
      outputs: [
        { name: "label", datatype: "INT64", shape: [-1] },
        { name: "probabilities", datatype: "FP32", shape: [-1, 3] },
      ],
    };
    expect(await get(`/models/${model}`)).toEqual({ status: 200, body: expected });
    expect(await get(`/models/${model}/versions/1`)).toEqual({ status: 200, body: expected });
    expect(await get(`/models/${model}/versions/latest`)).toEqual({ status: 200, body: expected });
  });

  it("answers model readiness, and 404 for a model or version not served", async () => {
    expect(await get(`/models/${model}/ready`)).toEqual({ status: 200, body: { name: model, ready: true } });
    expect(await get(`/models/${model}/versions/1/ready`)).toEqual({ status: 200, body: { name: model, ready: true } });
    const unknown = await get("/models/resnet/ready");
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: `model "resnet" is not served here` });
    expect(await get(`/models/${model}/versions/7`)).toEqual({
      status: 404,
      body: { error: 'model version "7" is not loaded' },
    });
  });
});

describe("POST /v2/models/{name}[/versions/{version}]/infer", () => {
  it("answers every output for a nested or flat row-major FP32 tensor, echoing the request id", async () => {
    for (const data of [rows, rows.flat()]) {
      const res = await postJson(`${v2}/models/${model}/infer`, inferRequest(data, { id: "req-42" }));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ model_name: model, model_version: "1", id: "req-42" });
      expectIris(res.body.outputs, rows);
    }
  });

  it("takes FP64, INT32 and INT64 tensors, a version, and `parameters`", async () => {
    for (const datatype of ["FP64", "INT32", "INT64"]) {
      const ints = rows.map((r) => r.map(Math.round));
      const res = await postJson(`${v2}/models/${model}/versions/1/infer`, {
        parameters: { content_type: "np" },
        inputs: [{ name: "features", shape: [3, 4], datatype, data: datatype === "FP64" ? rows : ints }],
      });
      expect(res.status).toBe(200);
      expectIris(res.body.outputs, datatype === "FP64" ? rows : ints);
      expect(res.body.id).toBeUndefined();
    }
  });

  it("answers only the outputs asked for, in their order", async () => {
    const res = await postJson(`${v2}/models/${model}/infer`, inferRequest(rows, { outputs: [{ name: "label" }] }));
    expect(res.status).toBe(200);
    expect((res.body.outputs as { name: string }[]).map((o) => o.name)).toEqual(["label"]);
  });

  it("counts its requests under protocol http", async () => {
    const before = await readMetric(server.url, "prediction_requests_total", { protocol: "http", code: "ok" });
    await postJson(`${v2}/models/${model}/infer`, inferRequest());
    expect(await readMetric(server.url, "prediction_requests_total", { protocol: "http", code: "ok" })).toBe(
      before + 1,
    );
  });

  /** Bad requests the /predict route refuses too, with the protocol's error body and the same statuses. */
  const bad: [string, unknown, number, RegExp][] = [
    ["malformed JSON", "{not json", 400, /malformed JSON/],
    ["a body that is not an object", "[1, 2]", 400, /must be an inference request/],
    ["no inputs", {}, 400, /invalid inputs: must be a list/],
    ["an empty input list", { inputs: [] }, 400, /invalid inputs: must hold/],
    ["two inputs", { inputs: [inferRequest().inputs, inferRequest().inputs].flat() }, 400, /one input tensor, got 2/],
    [
      "an unknown datatype",
      { inputs: [{ name: "features", shape: [1, 4], datatype: "FP8", data: [1, 2, 3, 4] }] },
      400,
      /inputs\[0\]\.datatype: "FP8" is not one of FP32/,
    ],
    [
      "a BYTES tensor the model does not take",
      { inputs: [{ name: "features", shape: [1], datatype: "BYTES", data: ["a"] }] },
      400,
      /"BYTES" is not one of/,
    ],
    [
      "a wrong input name",
      { inputs: [{ name: "x", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }] },
      400,
      /inputs\[0\]\.name: the model's input is "features"/,
    ],
    [
      "a wrong feature count",
      { inputs: [{ name: "features", shape: [1, 3], datatype: "FP32", data: [1, 2, 3] }] },
      400,
      /inputs\[0\]\.shape: expected 4 features, got 3/,
    ],
    [
      "data that does not fill the shape",
      inferRequest([1, 2, 3]),
      400,
      /inputs\[0\]\.data: expected 12 elements for shape \[3,4\], got 3/,
    ],
    ["data that is not numbers", inferRequest([["a", 1, 2, 3]]), 400, /inputs\[0\]\.data: must hold numbers only/],
    [
      "a fraction in an INT64 tensor",
      { inputs: [{ name: "features", shape: [1, 4], datatype: "INT64", data: [1.5, 2, 3, 4] }] },
      400,
      /inputs\[0\]\.data\[0\]: must be an integer/,
    ],
    [
      "a negative shape",
      { inputs: [{ name: "features", shape: [-1, 4], datatype: "FP32", data: [1, 2, 3, 4] }] },
      400,
      /inputs\[0\]\.shape: must be a list of non-negative/,
    ],
    [
      "an unknown output",
      inferRequest(rows, { outputs: [{ name: "logits" }] }),
      400,
      /outputs\[0\]\.name: the model has no output "logits"/,
    ],
    ["an id that is not a string", inferRequest(rows, { id: 7 }), 400, /invalid id: must be a string/],
  ];
  for (const [what, body, status, message] of bad) {
    it(`answers ${what} with ${status} and {"error": ...}`, async () => {
      const res = await postJson(`${v2}/models/${model}/infer`, body);
      expect(res.status).toBe(status);
      expect(Object.keys(res.body)).toEqual(["error"]);
      expect(res.body.error).toMatch(message);
    });
  }

  it("answers an unknown model 404, an unknown version 404, a bad timeout 400 and a body over the limit 413", async () => {
    const unknown = await postJson(`${v2}/models/resnet/infer`, inferRequest());
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/model "resnet" is not served here/);
    expect((await postJson(`${v2}/models/${model}/versions/Staging/infer`, inferRequest())).status).toBe(404);
    const timeout = await postJson(`${v2}/models/${model}/infer`, inferRequest(), {
      headers: { "x-request-timeout-ms": "soon" },
    });
    expect(timeout).toMatchObject({ status: 400, body: { error: expect.stringMatching(/x-request-timeout-ms/) } });
    const huge = await postJson(`${v2}/models/${model}/infer`, inferRequest(Array(20_000).fill(1.5)));
    expect(huge.status).toBe(413);
    expect(huge.body.error).toMatch(/too large/);
  });

  it("answers a method the route lacks and an unknown v2 path in the protocol's error shape", async () => {
    const res = await fetch(`${v2}/models/${model}/infer`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/GET \/v2\/models\/iris-classifier\/infer/) });
  });
});

describe("the binary tensor data extension", () => {
  /** A body of the extension: the JSON header, then the bytes of the binary inputs. */
  function binaryBody(header: unknown, ...parts: Uint8Array[]): { body: Buffer; headerLength: number } {
    const json = Buffer.from(JSON.stringify(header));
    return { body: Buffer.concat([json, ...parts]), headerLength: json.byteLength };
  }
  const f32 = (values: readonly number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);

  it("takes a binary input and answers the outputs asked for as binary after a JSON header", async () => {
    const data = f32(rows.flat());
    const { body, headerLength } = binaryBody(
      {
        inputs: [
          { name: "features", shape: [3, 4], datatype: "FP32", parameters: { binary_data_size: data.byteLength } },
        ],
        outputs: [{ name: "probabilities", parameters: { binary_data: true } }, { name: "label" }],
      },
      data,
    );
    const res = await fetch(`${v2}/models/${model}/infer`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", "inference-header-content-length": String(headerLength) },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    const length = Number(res.headers.get("inference-header-content-length"));
    const answer = Buffer.from(await res.arrayBuffer());
    const header = JSON.parse(answer.subarray(0, length).toString("utf8")) as {
      outputs: { name: string; shape: number[]; parameters?: { binary_data_size: number }; data?: number[] }[];
    };
    const [probs, label] = header.outputs;
    expect(probs).toMatchObject({ name: "probabilities", shape: [3, 3], parameters: { binary_data_size: 36 } });
    expect(probs?.data).toBeUndefined();
    expect(label).toMatchObject({ name: "label", shape: [3] });
    const values = new Float32Array(Uint8Array.from(answer.subarray(length, length + 36)).buffer);
    const want = referenceProbabilities(irisWeights, irisBias, rows[1] ?? []);
    want.forEach((w, c) => {
      expect(values[3 + c]).toBeCloseTo(w, 4);
    });
    expect(answer.byteLength).toBe(length + 36);
  });

  it("refuses a body declared neither JSON nor the binary extension with 415, in the protocol's error body", async () => {
    const res = await fetch(`${v2}/models/${model}/infer`, {
      method: "POST",
      body: JSON.stringify(inferRequest(rows)),
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: string }).error).toMatch(/Content-Type: application\/json/);
  });

  it("answers every output binary for binary_data_output", async () => {
    const raw = await fetch(`${v2}/models/${model}/infer`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(inferRequest(rows, { parameters: { binary_data_output: true } })),
    });
    expect(raw.headers.get("content-type")).toBe("application/octet-stream");
    const length = Number(raw.headers.get("inference-header-content-length"));
    const answer = Buffer.from(await raw.arrayBuffer());
    const header = JSON.parse(answer.subarray(0, length).toString("utf8")) as { outputs: { name: string }[] };
    // label (3 INT64) then probabilities (3x3 FP32), in the model's order.
    expect(header.outputs.map((o) => o.name)).toEqual(["label", "probabilities"]);
    expect(answer.byteLength).toBe(length + 24 + 36);
    const labels = new BigInt64Array(Uint8Array.from(answer.subarray(length, length + 24)).buffer);
    const want = rows.map((row) => {
      const p = referenceProbabilities(irisWeights, irisBias, row);
      return p.indexOf(Math.max(...p));
    });
    expect([...labels].map(Number)).toEqual(want);
  });

  it("refuses a header length beyond the body, binary data that runs short, and bytes no input claims", async () => {
    const data = f32(rows.flat());
    const input = { name: "features", shape: [3, 4], datatype: "FP32", parameters: { binary_data_size: 48 } };
    const cases: [Buffer, string, RegExp][] = [
      [binaryBody({ inputs: [input] }, data).body, "100000", /Inference-Header-Content-Length/],
      [binaryBody({ inputs: [input] }, data.subarray(0, 40)).body, "", /goes beyond the binary data/],
      [binaryBody({ inputs: [input] }, data, data).body, "", /48 bytes no input claims/],
    ];
    for (const [body, length, message] of cases) {
      const headerLength = length === "" ? String(Buffer.from(JSON.stringify({ inputs: [input] })).byteLength) : length;
      const res = await fetch(`${v2}/models/${model}/infer`, {
        method: "POST",
        headers: { "inference-header-content-length": headerLength },
        body,
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
  });
});
