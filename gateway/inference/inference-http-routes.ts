/**
 * The JSON routes of the inference server, compatible with the FastAPI service mlpipe replaces:
 * POST /predict (one row as `features`, or many as `instances`), GET /health, /health/live,
 * /health/ready, /model/info, /metrics (Prometheus), /docs and /docs/openapi.json (also at
 * FastAPI's /openapi.json). With several models: a body's `model` (or `?model=` for /model/info)
 * names one, POST /models/{name}/predict, GET /models/{name}/info and /models/{name}/ready address
 * one by path, GET /models lists them; no name means the default model (MODEL_NAME). Errors answer
 * `{"error": {"code", "id", "message", "field"}}` with the status of httpStatusOf. Reading bodies,
 * deadlines and writing answers are protocol-json/'s; predictions and their counting the data plane's.
 */
import { inferenceErrors } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import type { InferenceMetrics } from "../../server/inference-metrics.js";
import type { Prediction } from "../../server/models/prediction-reader.js";
import type { ModelInfo, PredictionRequest, PredictionService } from "../../server/prediction-service.js";
import { healthRoutes, type MetricsExposition } from "../health/health-routes.js";
import type { Readiness } from "../health/readiness.js";
import type { HttpRequest, HttpResponse, HttpRoute } from "../http/http-route.js";
import { beginJsonCall } from "../protocol-json/json-call.js";
import { sendJson } from "../protocol-json/json-response.js";
import { createJsonRouter, failJson, type JsonRouteTable } from "../protocol-json/json-router.js";
import { type BodyLimits, parseJsonObject, receiveBody } from "../protocol-json/request-body.js";
import { docsPage, openApiDocument } from "./inference-openapi.js";

/** Options of {@link createInferenceHttpRoutes}. */
export interface InferenceHttpRoutesOptions {
  readonly service: PredictionService;
  readonly readiness: Readiness;
  readonly metrics: InferenceMetrics;
  /** What GET /metrics serves; default `metrics.registry` (this process's metrics). */
  readonly metricsExposition?: MetricsExposition | undefined;
  /**
   * Bounds of a /predict body: larger ones get REQUEST_TOO_LARGE unread, slower ones
   * REQUEST_TIMEOUT (408). JSON has its own size cap, below the binary one: a parsed JSON body
   * takes many times its size in memory.
   */
  readonly jsonBody: BodyLimits;
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

/**
 * The request of a /predict body: its `instances` (many rows) or its `features` (one), for the
 * model `pathModel` names (a /models/{name}/predict path) or else the body's `model`.
 */
function predictionRequestOf(body: Record<string, unknown>, pathModel: string | undefined): PredictionRequest {
  if (pathModel !== undefined && body.model !== undefined && body.model !== pathModel) {
    throw inferenceErrors.invalidInput("model", `the path names model "${pathModel}"`);
  }
  const modelName = pathModel ?? body.model;
  const { model_version: modelVersion, routing_key: routingKey } = body;
  if (body.instances !== undefined) {
    if (!Array.isArray(body.instances)) throw inferenceErrors.invalidInput("instances", "must be an array of rows");
    return { kind: "rows", rows: body.instances, field: instanceField, modelName, modelVersion, routingKey };
  }
  if (body.features === undefined)
    throw inferenceErrors.invalidInput("features", 'required (or "instances" for many rows)');
  return { kind: "rows", rows: [body.features], field: featuresField, modelName, modelVersion, routingKey };
}

/** The JSON form of a model version's description (GET /model/info, GET /models). */
function modelInfoJson(info: ModelInfo): Record<string, unknown> {
  return {
    name: info.name,
    version: info.version,
    stage: info.stage,
    aliases: info.aliases,
    source: info.source,
    loaded_at: new Date(info.loadedAt).toISOString(),
    task: info.task,
    serving: info.serving,
    signature: { inputs: info.inputs, outputs: info.outputs },
  };
}

/** Creates the JSON routes. */
export function createInferenceHttpRoutes(options: InferenceHttpRoutesOptions): HttpRoute {
  const { service, readiness, metrics, logger, jsonBody } = options;
  const openapi = JSON.stringify(openApiDocument());
  const page = docsPage();

  async function predict(req: HttpRequest, res: HttpResponse, pathModel?: string): Promise<void> {
    const call = beginJsonCall(req, res);
    // The answer's shape follows the request's: a list for `instances`, one prediction for `features`.
    let many = false;
    try {
      const r = await service.predict(call.context, async () => {
        if (call.timeoutError !== undefined) throw call.timeoutError;
        const body = parseJsonObject(await receiveBody(req, jsonBody), 'a JSON object with "features" or "instances"');
        many = body.instances !== undefined;
        return predictionRequestOf(body, pathModel);
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

  function modelInfo(req: HttpRequest, res: HttpResponse, pathModel?: string): void {
    const query = new URL(req.url ?? "/", "http://localhost").searchParams;
    const model = pathModel ?? query.get("model") ?? "";
    sendJson(res, 200, modelInfoJson(service.modelInfo(model, query.get("model_version") ?? "")));
  }

  function listModels(_req: HttpRequest, res: HttpResponse): void {
    sendJson(res, 200, {
      models: service.listModels().map((m) => ({
        name: m.name,
        default: m.isDefault,
        ready: m.ready,
        follows: m.follows,
        versions: m.versions.map(modelInfoJson),
        ...(m.statusMessage === "" ? {} : { status_message: m.statusMessage }),
        ...(m.routes.length === 0 ? {} : { traffic_split: m.routes }),
      })),
    });
  }

  /** GET /models/{name}/ready: 200 when the model answers predictions, 503 while it does not. */
  function modelReady(res: HttpResponse, name: string): void {
    const ready = service.modelReady(name);
    sendJson(res, ready ? 200 : 503, { model: name, ready });
  }

  function sendOpenApi(_req: HttpRequest, res: HttpResponse): void {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(openapi) });
    res.end(openapi);
  }

  const routes: JsonRouteTable = {
    "/predict": { POST: (req, res) => predict(req, res) },
    "/predict/batch": { POST: (req, res) => predict(req, res) },
    ...healthRoutes({
      readiness,
      metrics: options.metricsExposition ?? metrics.registry,
      details: () => ({
        model_loaded: service.ready,
        model_version: readiness.serving ? service.modelInfo("", "").version : null,
      }),
    }),
    "/model/info": { GET: (req, res) => modelInfo(req, res) },
    "/models": { GET: listModels },
    "/models/{name}/predict": { POST: (req, res, params) => predict(req, res, params.name) },
    "/models/{name}/info": { GET: (req, res, params) => modelInfo(req, res, params.name) },
    "/models/{name}/ready": { GET: (_req, res, params) => modelReady(res, params.name ?? "") },
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
