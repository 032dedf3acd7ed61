/**
 * The JSON routes of the inference server, compatible with the FastAPI service mlpipe replaces:
 * POST /predict (one row as `features`, or many as `instances`), GET /health, /health/live,
 * /health/ready, /model/info, /metrics (Prometheus), /docs and /docs/openapi.json. Errors answer
 * `{"error": {"code", "id", "message", "field"}}` with the status of httpStatusOf.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import {
  Code,
  commonErrors,
  errorJsonBody,
  httpStatusOf,
  inferenceErrors,
  MlpipeError,
} from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import { Cancellation } from "../../server/batching/cancellation.js";
import type { InferenceMetrics } from "../../server/inference-metrics.js";
import type { Prediction } from "../../server/models/prediction-reader.js";
import type { CallContext, PredictionService } from "../../server/prediction-service.js";
import { docsPage, openApiDocument } from "./inference-openapi.js";
import type { Readiness } from "./inference-readiness.js";

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

/** Answers a request if it is one of the JSON routes; false lets the caller route it elsewhere. */
export type JsonRoutes = (req: Request, res: Response) => boolean;

/** Options of {@link createInferenceHttpRoutes}. */
export interface InferenceHttpRoutesOptions {
  readonly service: PredictionService;
  readonly readiness: Readiness;
  readonly metrics: InferenceMetrics;
  /** Largest accepted body in bytes; larger ones get REQUEST_TOO_LARGE unread. */
  readonly maxRequestBytes: number;
  readonly logger: Logger;
}

/** Headers that carry a request's timeout in milliseconds, first match wins. */
export const timeoutHeaders = ["x-request-timeout-ms", "connect-timeout-ms"] as const;

/** Seconds a client is told to wait (Retry-After) after a full queue, an overload or while the server is unavailable. */
export const retryAfterSeconds = 1;

function send(res: Response, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: Response, err: MlpipeError, headers: Record<string, string> = {}): void {
  const retry =
    err.id === inferenceErrors.queueFull.id || err.code === Code.Unavailable
      ? { "retry-after": String(retryAfterSeconds) }
      : {};
  send(res, httpStatusOf(err), errorJsonBody(err), { ...retry, ...headers });
}

function readBody(req: Request, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? Number.NaN);
    if (declared > limit) {
      reject(commonErrors.requestTooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        reject(commonErrors.requestTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", () => reject(commonErrors.canceled()));
  });
}

function deadlineFrom(req: Request, receivedAt: number): number | undefined {
  for (const name of timeoutHeaders) {
    const value = req.headers[name];
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value[0] : value;
    if (text === undefined || !/^\d{1,10}$/.test(text.trim()) || Number(text) === 0) {
      throw commonErrors.invalidArgument(name, "must be a positive integer number of milliseconds");
    }
    return receivedAt + Number(text);
  }
  return undefined;
}

function predictionJson(p: Prediction): Record<string, unknown> {
  return p.probability === undefined
    ? { prediction: p.prediction }
    : { prediction: p.prediction, probability: p.probability };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Creates the JSON routes. */
export function createInferenceHttpRoutes(options: InferenceHttpRoutesOptions): JsonRoutes {
  const { service, readiness, metrics, logger } = options;
  const openapi = JSON.stringify(openApiDocument());
  const page = docsPage();

  function fail(res: Response, err: unknown): void {
    if (err instanceof MlpipeError) {
      if (err.code === Code.Internal || err.code === Code.Unknown) {
        logger.error({ err: err.cause ?? err, id: err.id }, err.message);
      }
      sendError(res, err, commonErrors.requestTooLarge.is(err) ? { connection: "close" } : {});
      return;
    }
    logger.error({ err }, "unexpected error in a JSON route");
    sendError(res, commonErrors.internal(err));
  }

  async function predict(req: Request, res: Response): Promise<void> {
    const receivedAt = performance.now();
    const cancellation = new Cancellation();
    const onClose = (): void => {
      if (!res.writableFinished) cancellation.cancel(commonErrors.canceled());
    };
    res.once("close", onClose);
    try {
      const context: CallContext = { receivedAt, signal: cancellation, deadline: deadlineFrom(req, receivedAt) };
      const raw = await readBody(req, options.maxRequestBytes);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch (err) {
        throw commonErrors.invalidArgument(
          "body",
          `malformed JSON (${err instanceof Error ? err.message : "parse error"})`,
        );
      }
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw commonErrors.invalidArgument("body", 'must be a JSON object with "features" or "instances"');
      }
      const b = body as Record<string, unknown>;
      if (b.instances !== undefined) {
        if (!Array.isArray(b.instances)) throw inferenceErrors.invalidInput("instances", "must be an array of rows");
        const r = await service.predictRows(b.instances, b.model_version, context, (i) => `instances[${i}]`);
        send(res, 200, {
          predictions: r.predictions.map(predictionJson),
          model_version: r.modelVersion,
          latency_ms: round(r.latencyMs),
        });
      } else {
        if (b.features === undefined) {
          throw inferenceErrors.invalidInput("features", 'required (or "instances" for many rows)');
        }
        const r = await service.predictRows([b.features], b.model_version, context, () => "features");
        const first = r.predictions[0];
        send(res, 200, {
          ...(first === undefined ? {} : predictionJson(first)),
          model_version: r.modelVersion,
          latency_ms: round(r.latencyMs),
        });
      }
      service.countRequest("http", undefined);
    } catch (err) {
      service.countRequest("http", err);
      fail(res, err);
    } finally {
      res.off("close", onClose);
    }
  }

  function modelInfo(req: Request, res: Response): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    const info = service.modelInfo(url.searchParams.get("model_version") ?? "");
    send(res, 200, {
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

  async function metricsText(res: Response): Promise<void> {
    const text = await metrics.registry.metrics();
    res.writeHead(200, { "content-type": metrics.registry.contentType, "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  const routes: Record<string, Record<string, (req: Request, res: Response) => void | Promise<void>>> = {
    "/predict": { POST: predict },
    "/predict/batch": { POST: predict },
    "/health": {
      GET: (_req, res) =>
        send(res, readiness.serving ? 200 : 503, {
          status: readiness.serving ? "healthy" : "unavailable",
          model_loaded: service.ready,
          model_version: readiness.serving ? service.modelInfo("").version : null,
        }),
    },
    "/health/live": { GET: (_req, res) => send(res, 200, { status: "alive" }) },
    "/health/ready": {
      GET: (_req, res) =>
        readiness.serving
          ? send(res, 200, { status: "ready" })
          : send(res, 503, { status: "not_ready" }, { "retry-after": String(retryAfterSeconds) }),
    },
    "/model/info": { GET: modelInfo },
    "/metrics": { GET: (_req, res) => metricsText(res) },
    "/docs": {
      GET: (_req, res) => {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(page) });
        res.end(page);
      },
    },
    "/docs/openapi.json": {
      GET: (_req, res) => {
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(openapi) });
        res.end(openapi);
      },
    },
  };

  return (req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    const route = routes[path];
    if (route === undefined) return false;
    const contentType = req.headers["content-type"] ?? "";
    // gRPC and Connect requests never use these paths, but be explicit: leave them to the RPC handler.
    if (/^application\/(grpc|connect)/.test(contentType)) return false;
    const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
    const handle = route[method];
    if (handle === undefined) {
      fail(res, commonErrors.notFoundRoute(`${method} ${path}`));
      return true;
    }
    try {
      const done = handle(req, res);
      if (done !== undefined) done.catch((err: unknown) => fail(res, err));
    } catch (err) {
      fail(res, err);
    }
    return true;
  };
}
