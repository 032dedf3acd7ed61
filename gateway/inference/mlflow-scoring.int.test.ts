/**
 * MLflow's scoring-server routes against a real server and onnxruntime, with the bodies of MLflow's
 * documentation ("Deploy MLflow models": the four JSON forms of /invocations) and its errors.
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
const columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"];
const labels = rows.map((row) => {
  const p = referenceProbabilities(irisWeights, irisBias, row);
  return p.indexOf(Math.max(...p));
});
const records = rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]])));

let server: InferenceServer;
let url = "";

beforeAll(async () => {
  server = await startTestServer({ MODEL_PATH: writeTestModels().iris, MAX_QUEUE_DELAY_US: "1000" });
  url = `${server.url}/invocations`;
});

afterAll(async () => {
  await server?.shutdown();
});

describe("POST /invocations", () => {
  const forms: [string, unknown][] = [
    ["dataframe_split", { dataframe_split: { columns, data: rows } }],
    ["dataframe_split with an index", { dataframe_split: { index: [0, 1, 2], columns, data: rows } }],
    ["dataframe_records", { dataframe_records: records }],
    ["instances as rows", { instances: rows }],
    ["instances as records", { instances: records }],
    ["inputs as rows", { inputs: rows }],
    ["inputs by the model's input name", { inputs: { features: rows } }],
    ["any form with params", { inputs: rows, params: { threshold: 0.5 } }],
  ];
  for (const [what, body] of forms) {
    it(`answers ${what} with one prediction per row`, async () => {
      expect(await postJson(url, body)).toMatchObject({ status: 200, body: { predictions: labels } });
    });
  }

  it("counts its requests under protocol http", async () => {
    const before = await readMetric(server.url, "prediction_requests_total", { protocol: "http", code: "ok" });
    await postJson(url, { instances: rows });
    expect(await readMetric(server.url, "prediction_requests_total", { protocol: "http", code: "ok" })).toBe(
      before + 1,
    );
  });

  const bad: [string, unknown, RegExp][] = [
    ["malformed JSON", "{", /malformed JSON/],
    [
      "no known form",
      { rows },
      /exactly one of "dataframe_split", "dataframe_records", "instances" or "inputs", it has 0/,
    ],
    ["two forms", { instances: rows, inputs: rows }, /it has 2/],
    ["a dataframe_split that is not an object", { dataframe_split: rows }, /dataframe_split: must be an object/],
    ["rows that are not a list", { instances: 5 }, /invalid instances: must be a list of rows/],
    [
      "a row of the wrong width",
      { dataframe_split: { columns, data: [[1, 2, 3]] } },
      /dataframe_split\.data\[0\]: expected 4 values, got 3/,
    ],
    ["a value that is not a number", { instances: [[1, 2, "x", 4]] }, /instances\[0\]\[2\]: must be a number/],
    [
      "a record missing a column",
      { dataframe_records: [records[0], { sepal_length: 1 }] },
      /dataframe_records\[1\]: has no column "sepal_width"/,
    ],
    ["inputs naming another input", { inputs: { x: rows } }, /must name the model's input "features"/],
    ["no rows", { inputs: [] }, /inputs: must not be empty/],
  ];
  for (const [what, body, message] of bad) {
    it(`answers ${what} with 400 and MLflow's error body`, async () => {
      const res = await postJson(url, body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error_code: "BAD_REQUEST", message: expect.stringMatching(message) });
    });
  }

  it("refuses a CSV body with 415, naming the JSON it takes", async () => {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "text/csv" }, body: "1,2,3,4\n" });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({
      error_code: "BAD_REQUEST",
      message: expect.stringMatching(/application\/json/),
    });
  });
});

describe("GET /ping", () => {
  it("answers 200 while a model is served", async () => {
    const res = await fetch(`${server.url}/ping`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("\n");
  });
});
