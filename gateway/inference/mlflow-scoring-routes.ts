/**
 * MLflow's scoring-server routes (`mlflow models serve`), so its users switch without changing
 * their clients: GET /ping (200 while a model is served, 503 otherwise) and POST /invocations with
 * a JSON body in any of its four forms: `dataframe_split` ({columns, data}), `dataframe_records`
 * (a list of {column: value}; columns in the first record's key order), `instances` (rows, or
 * records) and `inputs` (rows, or {<the model's input name>: rows}). It answers
 * `{"predictions": [...]}` (the class index or value of each row) and errors as MLflow does,
 * `{"error_code": "BAD_REQUEST", "message": ...}`, with the status of httpStatusOf. Rows go
 * through the data plane like /predict's (validation, batching, deadlines, counting as "http").
 * MLflow's `text/csv` bodies are not taken: like every JSON POST route, a body not declared
 * `application/json` is refused unread with 415 (the router's rule).
 */
import { Code, inferenceErrors, type MlpipeError } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import type { PredictionService, RowsRequest } from "../../server/prediction-service.js";
import type { Readiness } from "../health/readiness.js";
import type { HttpRequest, HttpResponse, HttpRoute } from "../http/http-route.js";
import { beginJsonCall } from "../protocol-json/json-call.js";
import { jsonErrorEncoder, retryAfterSeconds, sendJson } from "../protocol-json/json-response.js";
import { createJsonRouter, failJson, type JsonRouteTable } from "../protocol-json/json-router.js";
import { type BodyLimits, parseJsonObject, receiveBody } from "../protocol-json/request-body.js";

/** Options of {@link createMlflowScoringRoutes}. */
export interface MlflowScoringRoutesOptions {
  readonly service: PredictionService;
  readonly readiness: Readiness;
  /** Bounds of a body (MAX_JSON_BODY_BYTES, REQUEST_READ_TIMEOUT_MS); shared with admission control, which waits for it. */
  readonly jsonBody: BodyLimits;
  readonly logger: Logger;
}

/** MLflow's error codes (its `ErrorCode` enum) of the gRPC codes the data plane answers with. */
const mlflowErrorCodes: Partial<Record<Code, string>> = {
  [Code.InvalidArgument]: "BAD_REQUEST",
  [Code.NotFound]: "RESOURCE_DOES_NOT_EXIST",
  [Code.ResourceExhausted]: "RESOURCE_EXHAUSTED",
  [Code.Unavailable]: "TEMPORARILY_UNAVAILABLE",
  [Code.DeadlineExceeded]: "DEADLINE_EXCEEDED",
  [Code.Canceled]: "CANCELLED",
  [Code.Unimplemented]: "NOT_IMPLEMENTED",
};

/** The scoring server's error body. */
export const mlflowErrorBody = (err: MlpipeError): { error_code: string; message: string } => ({
  error_code: mlflowErrorCodes[err.code] ?? "INTERNAL_ERROR",
  message: err.message,
});

/** The scoring server's error answers: mlpipe's statuses and headers, MLflow's body. */
const encodeScoringError = jsonErrorEncoder(mlflowErrorBody);

const formats = '"dataframe_split", "dataframe_records", "instances" or "inputs"';

/** Records ({column: value}) as rows, columns in the first record's key order. */
function rowsOfRecords(records: readonly unknown[], field: string): unknown[][] {
  let columns: string[] | undefined;
  return records.map((record, i) => {
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      throw inferenceErrors.invalidInput(`${field}[${i}]`, "must be an object of column values");
    }
    const values = record as Record<string, unknown>;
    columns ??= Object.keys(values);
    return columns.map((c) => {
      if (!(c in values)) throw inferenceErrors.invalidInput(`${field}[${i}]`, `has no column "${c}"`);
      return values[c];
    });
  });
}

/** Rows, or records turned into rows. */
function rowsOrRecords(value: unknown[], field: string): unknown[] {
  const first: unknown = value[0];
  return typeof first === "object" && first !== null && !Array.isArray(first) ? rowsOfRecords(value, field) : value;
}

/** The data plane's request for an /invocations body (see the module comment). */
export function invocationRequestOf(body: Record<string, unknown>, inputName: () => string): RowsRequest {
  const request = (rows: unknown, field: string): RowsRequest => {
    if (!Array.isArray(rows)) throw inferenceErrors.invalidInput(field, "must be a list of rows");
    return {
      kind: "rows",
      rows: rowsOrRecords(rows, field),
      field: (i) => `${field}[${i}]`,
      modelName: undefined,
      modelVersion: undefined,
    };
  };
  const present = ["dataframe_split", "dataframe_records", "instances", "inputs"].filter((k) => body[k] !== undefined);
  if (present.length !== 1) {
    throw inferenceErrors.invalidInput("body", `must have exactly one of ${formats}, it has ${present.length}`);
  }
  if (body.dataframe_split !== undefined) {
    const split = body.dataframe_split;
    if (typeof split !== "object" || split === null || Array.isArray(split)) {
      throw inferenceErrors.invalidInput("dataframe_split", 'must be an object with "columns" and "data"');
    }
    return request((split as Record<string, unknown>).data, "dataframe_split.data");
  }
  if (body.dataframe_records !== undefined) return request(body.dataframe_records, "dataframe_records");
  if (body.instances !== undefined) return request(body.instances, "instances");
  const inputs = body.inputs;
  if (typeof inputs === "object" && inputs !== null && !Array.isArray(inputs)) {
    const name = inputName();
    const named = (inputs as Record<string, unknown>)[name];
    if (named === undefined) throw inferenceErrors.invalidInput("inputs", `must name the model's input "${name}"`);
    return request(named, `inputs.${name}`);
  }
  return request(inputs, "inputs");
}

/** Creates the two routes. */
export function createMlflowScoringRoutes(options: MlflowScoringRoutesOptions): HttpRoute {
  const { service, readiness, jsonBody, logger } = options;

  async function invocations(req: HttpRequest, res: HttpResponse): Promise<void> {
    const call = beginJsonCall(req, res);
    try {
      const r = await service.predict(call.context, async () => {
        if (call.timeoutError !== undefined) throw call.timeoutError;
        const body = parseJsonObject(await receiveBody(req, jsonBody), `a JSON object with ${formats}`);
        return invocationRequestOf(body, () => service.modelInfo(undefined, "").inputs[0]?.name ?? "");
      });
      sendJson(res, 200, { predictions: r.predictions.map((p) => p.prediction) });
    } catch (err) {
      failJson(req, res, err, logger, encodeScoringError);
    } finally {
      call.finish();
    }
  }

  const routes: JsonRouteTable = {
    "/ping": {
      GET: (_req, res) => {
        if (readiness.serving) {
          res.writeHead(200, { "content-type": "application/json", "content-length": 1 });
          res.end("\n");
        } else {
          sendJson(res, 503, mlflowErrorBody(inferenceErrors.modelNotReady()), {
            "retry-after": String(retryAfterSeconds),
          });
        }
      },
    },
    "/invocations": { POST: invocations },
  };
  return createJsonRouter({ routes, logger, encodeError: encodeScoringError });
}
