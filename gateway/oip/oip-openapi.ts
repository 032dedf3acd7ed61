/**
 * The OpenAPI paths and schemas of the Open Inference Protocol v2 REST routes and MLflow's
 * scoring-server routes, merged into the inference server's document (inference-openapi.ts).
 */

function oipError(description: string): Record<string, unknown> {
  return { description, content: { "application/json": { schema: { $ref: "#/components/schemas/OipError" } } } };
}

const nameParameter = { name: "name", in: "path", required: true, schema: { type: "string" } } as const;
const versionParameter = {
  name: "version",
  in: "path",
  required: true,
  description: "A version number, stage or alias",
  schema: { type: "string" },
} as const;

const inferOperation = (parameters: readonly unknown[]): Record<string, unknown> => ({
  post: {
    summary:
      "Open Inference Protocol v2 inference: typed tensors (FP32, FP64, INT32, INT64), or Triton's binary tensor extension with Inference-Header-Content-Length",
    parameters,
    requestBody: {
      required: true,
      content: {
        "application/json": {
          schema: { $ref: "#/components/schemas/OipInferRequest" },
          example: {
            id: "42",
            inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] }],
            outputs: [{ name: "probabilities" }],
          },
        },
      },
    },
    responses: {
      "200": {
        description: "The outputs asked for (all without `outputs`)",
        content: { "application/json": { schema: { $ref: "#/components/schemas/OipInferResponse" } } },
      },
      "400": oipError("Bad input: datatype, shape, data, input or output names, malformed JSON"),
      "404": oipError("The model name or version is not served"),
      "413": oipError("The body is over MAX_REQUEST_BYTES"),
      "429": oipError("Overloaded or queue full; retry after Retry-After"),
      "503": oipError("No model is ready, or the server is shutting down"),
      "504": oipError("The deadline passed first"),
    },
  },
});

const metadataOperation = (parameters: readonly unknown[]): Record<string, unknown> => ({
  get: {
    summary: "Model metadata: name, versions, platform, inputs and outputs with the protocol's data types",
    parameters,
    responses: {
      "200": {
        description: "Metadata",
        content: { "application/json": { schema: { $ref: "#/components/schemas/OipModelMetadata" } } },
      },
      "404": oipError("The model name or version is not served"),
    },
  },
});

const readyOperation = (parameters: readonly unknown[]): Record<string, unknown> => ({
  get: {
    summary: "Model readiness",
    parameters,
    responses: { "200": { description: "Ready" }, "404": oipError("Not served"), "503": { description: "Not ready" } },
  },
});

const tensor = {
  type: "object",
  required: ["name", "shape", "datatype"],
  properties: {
    name: { type: "string" },
    shape: { type: "array", items: { type: "integer" } },
    datatype: { type: "string", enum: ["FP32", "FP64", "INT32", "INT64"] },
    parameters: { type: "object", properties: { binary_data_size: { type: "integer" } } },
    data: { type: "array", description: "Row-major elements, flat or nested" },
  },
} as const;

/** The paths of both dialects, to spread into the document's `paths`. */
export function oipOpenApiPaths(): Record<string, unknown> {
  const one = [nameParameter];
  const both = [nameParameter, versionParameter];
  return {
    "/v2": {
      get: { summary: "Server metadata: name, version, extensions", responses: { "200": { description: "Metadata" } } },
    },
    "/v2/health/live": { get: { summary: "Server liveness", responses: { "200": { description: "Live" } } } },
    "/v2/health/ready": {
      get: {
        summary: "Server readiness",
        responses: { "200": { description: "Ready" }, "503": { description: "Not ready" } },
      },
    },
    "/v2/models/{name}": metadataOperation(one),
    "/v2/models/{name}/versions/{version}": metadataOperation(both),
    "/v2/models/{name}/ready": readyOperation(one),
    "/v2/models/{name}/versions/{version}/ready": readyOperation(both),
    "/v2/models/{name}/infer": inferOperation(one),
    "/v2/models/{name}/versions/{version}/infer": inferOperation(both),
    "/invocations": {
      post: {
        summary: "MLflow scoring server: dataframe_split, dataframe_records, instances or inputs",
        requestBody: {
          required: true,
          content: {
            "application/json": {
              example: { dataframe_split: { columns: ["a", "b", "c", "d"], data: [[5.1, 3.5, 1.4, 0.2]] } },
            },
          },
        },
        responses: {
          "200": { description: '{"predictions": [...]}: the class index or value of each row' },
          "400": { description: 'Bad input: {"error_code": "BAD_REQUEST", "message": ...}' },
        },
      },
    },
    "/ping": {
      get: {
        summary: "MLflow scoring server health",
        responses: { "200": { description: "Serving" }, "503": { description: "Not serving" } },
      },
    },
  };
}

/** The schemas the paths refer to, to spread into `components.schemas`. */
export function oipOpenApiSchemas(): Record<string, unknown> {
  return {
    OipError: { type: "object", required: ["error"], properties: { error: { type: "string" } } },
    OipInferRequest: {
      type: "object",
      required: ["inputs"],
      properties: {
        id: { type: "string" },
        parameters: { type: "object", properties: { binary_data_output: { type: "boolean" } } },
        inputs: { type: "array", items: tensor },
        outputs: {
          type: "array",
          items: {
            type: "object",
            required: ["name"],
            properties: {
              name: { type: "string" },
              parameters: { type: "object", properties: { binary_data: { type: "boolean" } } },
            },
          },
        },
      },
    },
    OipInferResponse: {
      type: "object",
      properties: {
        model_name: { type: "string" },
        model_version: { type: "string" },
        id: { type: "string" },
        outputs: { type: "array", items: tensor },
      },
    },
    OipModelMetadata: {
      type: "object",
      properties: {
        name: { type: "string" },
        versions: { type: "array", items: { type: "string" } },
        platform: { type: "string" },
        inputs: { type: "array", items: { type: "object" } },
        outputs: { type: "array", items: { type: "object" } },
      },
    },
  };
}
