/**
 * The Open Inference Protocol v2 REST API (KServe v2 / Triton HTTP): GET /v2, /v2/health/live,
 * /v2/health/ready, /v2/models/{name}[/versions/{version}] (metadata), .../ready, and POST
 * .../infer with typed JSON tensors or Triton's binary tensor extension
 * (`Inference-Header-Content-Length`: the body is a JSON header followed by the tensors' bytes;
 * outputs come back binary for `binary_data_output` or an output's `binary_data`). Errors answer
 * `{"error": "<message>"}` with the status of httpStatusOf, as the protocol asks. Predictions go
 * through the data plane (validation, batching, deadlines, counting under protocol "http");
 * bodies, deadlines and answers through protocol-json/.
 */
import { commonErrors, inferenceErrors, type MlpipeError } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import type { PredictionService, PredictResult } from "../../server/prediction-service.js";
import type { Readiness } from "../health/readiness.js";
import type { HttpRequest, HttpResponse, HttpRoute } from "../http/http-route.js";
import { beginJsonCall } from "../protocol-json/json-call.js";
import { jsonErrorEncoder, retryAfterSeconds, sendJson } from "../protocol-json/json-response.js";
import {
  createJsonRouter,
  declaresJson,
  failJson,
  type JsonRouteTable,
  type RouteParams,
} from "../protocol-json/json-router.js";
import { type BodyLimits, parseJsonObject, receiveBody } from "../protocol-json/request-body.js";
import {
  type BinarySection,
  binaryOutputTensor,
  jsonInputTensor,
  jsonOutputTensor,
  objectAt,
  stringAt,
} from "./oip-json-tensors.js";
import {
  oipCheckOutputs,
  oipExtensions,
  oipModel,
  oipModelMetadata,
  oipModelReady,
  oipSelectOutputs,
  oipServerName,
  oipServerVersion,
  oipTensorRequest,
} from "./oip-model.js";

/** The header of the binary tensor extension: the length in bytes of the JSON part of the body. */
export const inferenceHeaderLength = "inference-header-content-length";

/** Options of {@link createOipRestRoutes}. */
export interface OipRestRoutesOptions {
  readonly service: PredictionService;
  readonly readiness: Readiness;
  /**
   * Bounds of a request's body, in size and time to arrive (a JSON body's or, with the binary
   * extension, MAX_REQUEST_BYTES); shared with admission control, which waits for the body first.
   */
  readonly bodyLimits: (req: HttpRequest) => BodyLimits;
  readonly logger: Logger;
}

/** True for a body of the binary tensor extension: a JSON header, then the tensors' raw bytes. */
export function isOipBinaryBody(req: HttpRequest): boolean {
  return req.headers[inferenceHeaderLength] !== undefined;
}

/**
 * The bodies an infer route reads: JSON, or the binary extension's, whatever its content type
 * (tritonclient sends application/octet-stream). A browser must ask before sending the extension's
 * header across origins (a CORS preflight), so taking it keeps the router's 415 rule's point.
 */
function acceptsBody(req: HttpRequest): boolean {
  return declaresJson(req) || isOipBinaryBody(req);
}

/** The protocol's error body: the message only (the status says the rest). */
export const oipErrorBody = (err: MlpipeError): { error: string } => ({ error: err.message });

/** The protocol's error answers: mlpipe's statuses and headers, its `{"error": "<message>"}` body. */
const encodeOipError = jsonErrorEncoder(oipErrorBody);

/** What an infer request asks beyond its input: its id, the outputs it wants and which of them as binary. */
interface InferAsk {
  id: string | undefined;
  outputs: string[];
  binary: Set<string>;
  allBinary: boolean;
}

/** Splits a body of the binary extension into its JSON header and the bytes after it. */
function splitBody(req: HttpRequest, body: Buffer): { json: Buffer; binary: BinarySection | undefined } {
  const header = req.headers[inferenceHeaderLength];
  if (header === undefined) return { json: body, binary: undefined };
  const text = Array.isArray(header) ? header[0] : header;
  const length = Number(text);
  if (text === undefined || !/^\d+$/.test(text.trim()) || length > body.byteLength) {
    throw commonErrors.invalidArgument(
      "Inference-Header-Content-Length",
      `must be the length of the JSON header, at most the body's ${body.byteLength} bytes`,
    );
  }
  return { json: body.subarray(0, length), binary: { bytes: body.subarray(length), offset: 0 } };
}

/** Reads the request's `outputs` and binary choices into `ask`. */
function readAsk(body: Record<string, unknown>, ask: InferAsk): void {
  if (body.id !== undefined) ask.id = stringAt(body.id, "id");
  if (body.parameters !== undefined) {
    ask.allBinary = objectAt(body.parameters, "parameters").binary_data_output === true;
  }
  if (body.outputs === undefined) return;
  if (!Array.isArray(body.outputs)) throw inferenceErrors.invalidInput("outputs", "must be a list of outputs");
  body.outputs.forEach((value: unknown, i) => {
    const output = objectAt(value, `outputs[${i}]`);
    const name = stringAt(output.name, `outputs[${i}].name`);
    ask.outputs.push(name);
    if (
      output.parameters !== undefined &&
      objectAt(output.parameters, `outputs[${i}].parameters`).binary_data === true
    ) {
      ask.binary.add(name);
    }
  });
}

/** Sends an infer answer: all JSON, or a JSON header and the binary outputs after it. */
function sendInferAnswer(res: HttpResponse, name: string, r: PredictResult, ask: InferAsk): void {
  const outputs: Record<string, unknown>[] = [];
  const parts: Uint8Array[] = [];
  for (const [outputName, tensor] of oipSelectOutputs(r.outputs, ask.outputs)) {
    if (ask.allBinary || ask.binary.has(outputName)) {
      const binary = binaryOutputTensor(outputName, tensor);
      outputs.push(binary.json);
      parts.push(binary.bytes);
    } else {
      outputs.push(jsonOutputTensor(outputName, tensor));
    }
  }
  const answer = {
    model_name: name,
    model_version: r.modelVersion,
    ...(ask.id === undefined ? {} : { id: ask.id }),
    outputs,
  };
  if (parts.length === 0) {
    sendJson(res, 200, answer);
    return;
  }
  const header = Buffer.from(JSON.stringify(answer));
  const body = Buffer.concat([header, ...parts]);
  res.writeHead(200, {
    "content-type": "application/octet-stream",
    "content-length": body.byteLength,
    [inferenceHeaderLength]: header.byteLength,
  });
  res.end(body);
}

/** Creates the routes (see the module comment). */
export function createOipRestRoutes(options: OipRestRoutesOptions): HttpRoute {
  const { service, readiness, bodyLimits, logger } = options;

  async function infer(req: HttpRequest, res: HttpResponse, params: RouteParams): Promise<void> {
    const call = beginJsonCall(req, res);
    const name = params.name ?? "";
    const version = params.version ?? "";
    const ask: InferAsk = { id: undefined, outputs: [], binary: new Set(), allBinary: false };
    try {
      const r = await service.predict(call.context, async () => {
        if (call.timeoutError !== undefined) throw call.timeoutError;
        const { json, binary } = splitBody(req, await receiveBody(req, bodyLimits(req)));
        const body = parseJsonObject(json, 'an inference request, a JSON object with "inputs"');
        const info = oipModel(service, name, version);
        readAsk(body, ask);
        oipCheckOutputs(info, ask.outputs);
        if (!Array.isArray(body.inputs)) throw inferenceErrors.invalidInput("inputs", "must be a list of tensors");
        const inputs = body.inputs.map((value: unknown, i) => jsonInputTensor(value, i, binary));
        if (binary !== undefined && binary.offset !== binary.bytes.byteLength) {
          throw inferenceErrors.invalidInput(
            "inputs",
            `the binary data after the JSON header holds ${binary.bytes.byteLength - binary.offset} bytes no input claims`,
          );
        }
        return oipTensorRequest(inputs, name, version);
      });
      sendInferAnswer(res, name, r, ask);
    } catch (err) {
      failJson(req, res, err, logger, encodeOipError);
    } finally {
      call.finish();
    }
  }

  function metadata(_req: HttpRequest, res: HttpResponse, params: RouteParams): void {
    sendJson(res, 200, oipModelMetadata(service, params.name ?? "", params.version ?? ""));
  }

  function modelReady(_req: HttpRequest, res: HttpResponse, params: RouteParams): void {
    const name = params.name ?? "";
    const ready = oipModelReady(service, name, params.version ?? "");
    if (ready) sendJson(res, 200, { name, ready });
    else sendJson(res, 503, { name, ready }, { "retry-after": String(retryAfterSeconds) });
  }

  const routes: JsonRouteTable = {
    "/v2": {
      GET: (_req, res) =>
        sendJson(res, 200, { name: oipServerName, version: oipServerVersion, extensions: oipExtensions }),
    },
    "/v2/health/live": { GET: (_req, res) => sendJson(res, 200, { live: true }) },
    "/v2/health/ready": {
      GET: (_req, res) =>
        readiness.serving
          ? sendJson(res, 200, { ready: true })
          : sendJson(res, 503, { ready: false }, { "retry-after": String(retryAfterSeconds) }),
    },
    "/v2/models/{name}": { GET: metadata },
    "/v2/models/{name}/versions/{version}": { GET: metadata },
    "/v2/models/{name}/ready": { GET: modelReady },
    "/v2/models/{name}/versions/{version}/ready": { GET: modelReady },
    "/v2/models/{name}/infer": { POST: infer },
    "/v2/models/{name}/versions/{version}/infer": { POST: infer },
  };
  return createJsonRouter({ routes, logger, encodeError: encodeOipError, acceptsBody });
}

/** True for the paths of the protocol's infer routes (admission control covers them like /predict). */
export function isOipInferPath(path: string): boolean {
  return path.startsWith("/v2/models/") && path.endsWith("/infer");
}
