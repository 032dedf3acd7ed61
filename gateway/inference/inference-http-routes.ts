/**
 * The JSON routes of the inference server, compatible with the FastAPI service mlpipe replaces:
 * POST /predict (one row as `features`, or many as `instances`), GET /health, /health/live,
 * /health/ready, /model/info, /metrics (Prometheus), /docs and /docs/openapi.json (also at
 * FastAPI's /openapi.json). Errors answer
 * `{"error": {"code", "id", "message", "field"}}` with the status of httpStatusOf. Reading bodies,
 * deadlines and writing answers are protocol-json/'s; predictions and their counting the data plane's.
 */
import { inferenceErrors } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import type { InferenceMetrics } from "../../server/inference-metrics.js";
import type { Prediction } from "../../server/models/prediction-reader.js";
import type { PredictionRequest, PredictionService } from "../../server/prediction-service.js";
import { healthRoutes } from "../health/health-routes.js";
import type { Readiness } from "../health/readiness.js";
import type { HttpRequest, HttpResponse, HttpRoute } from "../http/http-route.js";
import { beginJsonCall } from "../protocol-json/json-call.js";
import { sendJson } from "../protocol-json/json-response.js";
import { createJsonRouter, failJson, type JsonRouteTable } from "../protocol-json/json-router.js";
import { parseJsonObject, readBody } from "../protocol-json/request-body.js";
import { docsPage, openApiDocument } from "./inference-openapi.js";

/** Options of {@link createInferenceHttpRoutes}. */
export interface InferenceHttpRoutesOptions {
  readonly service: PredictionService;
  readonly readiness: Readiness;
  readonly metrics: InferenceMetrics;
  /** Largest accepted body in bytes; larger ones get REQUEST_TOO_LARGE unread. */
  readonly maxRequestBytes: number;
  readonly logger: Logger;
}

function predictionJson(p: Prediction): Record<string, unknown> {
  return p.probability === undefined
    ? { prediction: p.prediction }
    : { prediction: p.prediction, probability: p.probability };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

const instanceField = (i: number): string => `instances[${i}]`;
const featuresField = (): string => "features";

/** The request of a /predict body: its `instances` (many rows) or its `features` (one). */
function predictionRequestOf(body: Record<string, unknown>): PredictionRequest {
  if (body.instances !== undefined) {
    if (!Array.isArray(body.instances)) throw inferenceErrors.invalidInput("instances", "must be an array of rows");
    return { kind: "rows", rows: body.instances, field: instanceField, modelVersion: body.model_version };
  }
  if (body.features === undefined)
    throw inferenceErrors.invalidInput("features", 'required (or "instances" for many rows)');
  return { kind: "rows", rows: [body.features], field: featuresField, modelVersion: body.model_version };
}

/** Creates the JSON routes. */
export function createInferenceHttpRoutes(options: InferenceHttpRoutesOptions): HttpRoute {
  const { service, readiness, metrics, logger, maxRequestBytes } = options;
  const openapi = JSON.stringify(openApiDocument());
  const page = docsPage();

  async function predict(req: HttpRequest, res: HttpResponse): Promise<void> {
    const call = beginJsonCall(req, res);
    // The answer's shape follows the request's: a list for `instances`, one prediction for `features`.
    let many = false;
    try {
      const r = await service.predict(call.context, async () => {
        if (call.timeoutError !== undefined) throw call.timeoutError;
        const body = parseJsonObject(
          await readBody(req, maxRequestBytes),
          'a JSON object with "features" or "instances"',
        );
        many = body.instances !== undefined;
        return predictionRequestOf(body);
      });
      if (many) {
        sendJson(res, 200, {
          predictions: r.predictions.map(predictionJson),
          model_version: r.modelVersion,
          latency_ms: round(r.latencyMs),
        });
      } else {
        const first = r.predictions[0];
        sendJson(res, 200, {
          ...(first === undefined ? {} : predictionJson(first)),
          model_version: r.modelVersion,
          latency_ms: round(r.latencyMs),
        });
      }
    } catch (err) {
      failJson(req, res, err, logger);
    } finally {
      call.finish();
    }
  }

  function modelInfo(req: HttpRequest, res: HttpResponse): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    const info = service.modelInfo(url.searchParams.get("model_version") ?? "");
    sendJson(res, 200, {
      name: info.name,
      version: info.version,
      stage: info.stage,
      aliases: info.aliases,
      source: info.source,
      loaded_at: new Date(info.loadedAt).toISOString(),
      task: info.task,
      serving: info.serving,
      signature: { inputs: info.inputs, outputs: info.outputs },
    });
  }

  function sendOpenApi(_req: HttpRequest, res: HttpResponse): void {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(openapi) });
    res.end(openapi);
  }

  const routes: JsonRouteTable = {
    "/predict": { POST: predict },
    "/predict/batch": { POST: predict },
    ...healthRoutes({
      readiness,
      metrics: metrics.registry,
      details: () => ({
        model_loaded: service.ready,
        model_version: readiness.serving ? service.modelInfo("").version : null,
      }),
    }),
    "/model/info": { GET: modelInfo },
    "/docs": {
      GET: (_req, res) => {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(page) });
        res.end(page);
      },
    },
    "/docs/openapi.json": { GET: sendOpenApi },
    // FastAPI's path of the document, which clients of the service mlpipe replaces look for.
    "/openapi.json": { GET: sendOpenApi },
  };
  return createJsonRouter({ routes, logger });
}
