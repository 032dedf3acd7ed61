/**
 * The OpenAPI 3.1 document of the inference server's JSON routes (GET /docs/openapi.json, and
 * /openapi.json where FastAPI serves it) and a
 * self-contained HTML page rendering it (GET /docs): no CDN, no external script, so it works in
 * air-gapped clusters.
 */
import { oipOpenApiPaths, oipOpenApiSchemas } from "../oip/oip-openapi.js";

const errorBody = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "id", "message"],
      properties: {
        code: { type: "string", description: "gRPC code name, e.g. invalid_argument", example: "invalid_argument" },
        id: { type: "string", description: "Stable error id (docs/errors.md)", example: "INFERENCE_INVALID_INPUT" },
        message: { type: "string", example: "invalid features: expected 4 values, got 3" },
        field: { type: "string", description: "The request field the error is about", example: "features" },
      },
    },
  },
} as const;

function errorResponse(description: string): Record<string, unknown> {
  return { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
}

const timeoutParameter = {
  name: "X-Request-Timeout-Ms",
  in: "header",
  required: false,
  description:
    "Deadline in milliseconds (Connect-Timeout-Ms is accepted too). A request still queued when it passes is dropped, never computed, and answered 504.",
  schema: { type: "integer", minimum: 1 },
} as const;

/** The POST operation of /predict and /models/{name}/predict. */
function predictOperation(summary: string, parameters: readonly unknown[]): Record<string, unknown> {
  return {
    summary,
    parameters,
    requestBody: {
      required: true,
      content: {
        "application/json": {
          schema: {
            oneOf: [
              { $ref: "#/components/schemas/PredictRequest" },
              { $ref: "#/components/schemas/PredictBatchRequest" },
            ],
          },
          examples: {
            one: { value: { features: [5.1, 3.5, 1.4, 0.2], model_version: "latest" } },
            many: {
              value: {
                instances: [
                  [5.1, 3.5, 1.4, 0.2],
                  [6.7, 3.0, 5.2, 2.3],
                ],
              },
            },
          },
        },
      },
    },
    responses: {
      "200": {
        description: "The prediction(s)",
        content: {
          "application/json": {
            schema: {
              oneOf: [
                { $ref: "#/components/schemas/PredictResponse" },
                { $ref: "#/components/schemas/PredictBatchResponse" },
              ],
            },
          },
        },
      },
      "400": errorResponse("Bad input: wrong feature count, non-numbers, non-finite values, malformed JSON"),
      "404": errorResponse("model names no served model, or model_version no loaded version"),
      "429": errorResponse(
        "The server is overloaded (INFERENCE_OVERLOADED, refused unread) or the queue is full (INFERENCE_QUEUE_FULL); retry after Retry-After",
      ),
      "503": errorResponse("The model is not ready, or the server is shutting down (Retry-After)"),
      "504": errorResponse("The deadline passed before the row was computed"),
    },
  };
}

/** The OpenAPI document, as a plain JSON-serializable object. */
export function openApiDocument(): Record<string, unknown> {
  const modelParameter = {
    name: "name",
    in: "path",
    required: true,
    description: "A model the server serves (GET /models lists them)",
    schema: { type: "string" },
  };
  const predictionSchema = {
    type: "object",
    required: ["prediction"],
    properties: {
      prediction: { type: "number", description: "Class index (classification) or value (regression)", example: 0 },
      probability: {
        type: "number",
        description: "Probability of the predicted class (classification)",
        example: 0.97,
      },
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "mlpipe inference server",
      version: "1",
      description:
        "JSON routes of the inference server. The same operations are served over gRPC, Connect and gRPC-Web as mlpipe.inference.v1.InferenceService; the Open Inference Protocol v2 (/v2/...) also as inference.GRPCInferenceService; MLflow's scoring-server routes (/invocations, /ping) too.",
    },
    paths: {
      "/predict": { post: predictOperation("Predict one row (features) or many (instances)", [timeoutParameter]) },
      "/health": {
        get: {
          summary: "Overall health",
          responses: { "200": { description: "Serving" }, "503": { description: "Not serving" } },
        },
      },
      "/health/live": {
        get: { summary: "Liveness: the process answers", responses: { "200": { description: "Alive" } } },
      },
      "/health/ready": {
        get: {
          summary: "Readiness: a model is loaded and warmed and the server is not draining",
          responses: { "200": { description: "Ready" }, "503": { description: "Not ready" } },
        },
      },
      "/model/info": {
        get: {
          summary: "The served (or a pinned) version of the default (or a named) model: identity, source, signature",
          parameters: [
            { name: "model", in: "query", required: false, schema: { type: "string" } },
            { name: "model_version", in: "query", required: false, schema: { type: "string" } },
          ],
          responses: {
            "200": {
              description: "Model info",
              content: { "application/json": { schema: { $ref: "#/components/schemas/ModelInfo" } } },
            },
            "404": errorResponse("No such loaded version"),
          },
        },
      },
      "/models": {
        get: {
          summary: "The models the server serves: default or not, ready or not, loaded versions",
          responses: {
            "200": {
              description: "The models, by name",
              content: { "application/json": { schema: { $ref: "#/components/schemas/ModelList" } } },
            },
          },
        },
      },
      "/models/{name}/predict": {
        post: predictOperation("As /predict, for the model the path names (a body's `model`, if any, must match it)", [
          modelParameter,
          timeoutParameter,
        ]),
      },
      "/models/{name}/info": {
        get: {
          summary: "As /model/info, for the model the path names",
          parameters: [
            modelParameter,
            { name: "model_version", in: "query", required: false, schema: { type: "string" } },
          ],
          responses: {
            "200": {
              description: "Model info",
              content: { "application/json": { schema: { $ref: "#/components/schemas/ModelInfo" } } },
            },
            "404": errorResponse("No such served model or loaded version"),
          },
        },
      },
      "/models/{name}/ready": {
        get: {
          summary: "Readiness of one model: a version is loaded and warmed and the server is not draining",
          parameters: [modelParameter],
          responses: {
            "200": { description: "Ready" },
            "404": errorResponse("No such served model"),
            "503": { description: "Not ready" },
          },
        },
      },
      "/metrics": {
        get: { summary: "Prometheus metrics", responses: { "200": { description: "Text exposition format" } } },
      },
      ...oipOpenApiPaths(),
    },
    components: {
      schemas: {
        ...oipOpenApiSchemas(),
        Error: errorBody,
        PredictRequest: {
          type: "object",
          required: ["features"],
          properties: {
            features: { type: "array", items: { type: "number" }, example: [5.1, 3.5, 1.4, 0.2] },
            model: { type: "string", description: "The model; absent for the default model (MODEL_NAME)" },
            routing_key: {
              type: "string",
              description:
                "Makes the model's traffic split (canary) choose the same version for the same key; at most 256 characters",
            },
            model_version: {
              type: "string",
              description: 'A version number, stage or alias; "latest" or absent for the served version',
              example: "latest",
            },
          },
        },
        PredictBatchRequest: {
          type: "object",
          required: ["instances"],
          properties: {
            instances: { type: "array", items: { type: "array", items: { type: "number" } } },
            model: { type: "string" },
            model_version: { type: "string" },
            routing_key: { type: "string" },
          },
        },
        Prediction: predictionSchema,
        PredictResponse: {
          allOf: [
            { $ref: "#/components/schemas/Prediction" },
            {
              type: "object",
              required: ["model_version", "latency_ms"],
              properties: { model_version: { type: "string" }, latency_ms: { type: "number" } },
            },
          ],
        },
        PredictBatchResponse: {
          type: "object",
          required: ["predictions", "model_version", "latency_ms"],
          properties: {
            predictions: { type: "array", items: { $ref: "#/components/schemas/Prediction" } },
            model_version: { type: "string" },
            latency_ms: { type: "number" },
          },
        },
        TensorSpec: {
          type: "object",
          properties: {
            name: { type: "string" },
            dtype: { type: "string" },
            shape: { type: "array", items: { type: "integer" }, description: "-1 for a dynamic dimension" },
          },
        },
        ModelList: {
          type: "object",
          properties: {
            models: {
              type: "array",
              items: {
                type: "object",
                properties: {
                  name: { type: "string" },
                  default: { type: "boolean", description: "Requests naming no model go to it (MODEL_NAME)" },
                  ready: { type: "boolean" },
                  follows: {
                    type: "string",
                    description: "The stage or alias followed in the registry; empty for a file",
                  },
                  versions: { type: "array", items: { $ref: "#/components/schemas/ModelInfo" } },
                  status_message: { type: "string", description: "Why it is not ready (its last load failure)" },
                },
              },
            },
          },
        },
        ModelInfo: {
          type: "object",
          properties: {
            name: { type: "string" },
            version: { type: "string" },
            stage: { type: "string" },
            aliases: { type: "array", items: { type: "string" } },
            source: { type: "string" },
            loaded_at: { type: "string", format: "date-time" },
            task: { type: "string", enum: ["classification", "regression"] },
            serving: { type: "boolean" },
            signature: {
              type: "object",
              properties: {
                inputs: { type: "array", items: { $ref: "#/components/schemas/TensorSpec" } },
                outputs: { type: "array", items: { $ref: "#/components/schemas/TensorSpec" } },
              },
            },
          },
        },
      },
    },
  };
}

/**
 * The /docs page: loads /docs/openapi.json and lists each route with its summary, parameters,
 * request examples and responses, using only inline script and style.
 */
export function docsPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>mlpipe inference server API</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem}.op{border:1px solid #ccc;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
.m{display:inline-block;min-width:4rem;font-weight:bold;text-transform:uppercase}
.get{color:#1565c0}.post{color:#2e7d32}pre{background:#f5f5f5;padding:.5rem;overflow:auto}
code{background:#f5f5f5;padding:0 .2rem}
</style>
</head>
<body>
<h1>mlpipe inference server API</h1>
<p>OpenAPI document: <a href="/docs/openapi.json">/docs/openapi.json</a></p>
<div id="ops">Loading…</div>
<script>
fetch("/docs/openapi.json").then(function (r) { return r.json(); }).then(function (doc) {
  var root = document.getElementById("ops");
  root.textContent = "";
  var p = document.createElement("p");
  p.textContent = doc.info.description;
  root.appendChild(p);
  Object.keys(doc.paths).forEach(function (path) {
    Object.keys(doc.paths[path]).forEach(function (method) {
      var op = doc.paths[path][method];
      var div = document.createElement("div");
      div.className = "op";
      var h = document.createElement("h2");
      var m = document.createElement("span");
      m.className = "m " + method;
      m.textContent = method;
      var c = document.createElement("code");
      c.textContent = path;
      h.appendChild(m); h.appendChild(c);
      div.appendChild(h);
      var s = document.createElement("p");
      s.textContent = op.summary || "";
      div.appendChild(s);
      (op.parameters || []).forEach(function (param) {
        var q = document.createElement("p");
        q.textContent = "Parameter " + param.name + " (" + param.in + "): " + (param.description || "");
        div.appendChild(q);
      });
      var ex = op.requestBody && op.requestBody.content["application/json"].examples;
      if (ex) Object.keys(ex).forEach(function (k) {
        var pre = document.createElement("pre");
        pre.textContent = "Example " + k + ":\\n" + JSON.stringify(ex[k].value, null, 2);
        div.appendChild(pre);
      });
      var ul = document.createElement("ul");
      Object.keys(op.responses || {}).forEach(function (code) {
        var li = document.createElement("li");
        li.textContent = code + ": " + op.responses[code].description;
        ul.appendChild(li);
      });
      div.appendChild(ul);
      root.appendChild(div);
    });
  });
  var schemas = document.createElement("pre");
  schemas.textContent = "Schemas:\\n" + JSON.stringify(doc.components.schemas, null, 2);
  root.appendChild(schemas);
}).catch(function (e) { document.getElementById("ops").textContent = "Cannot load the OpenAPI document: " + e; });
</script>
</body>
</html>
`;
}
