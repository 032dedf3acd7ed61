/**
 * Refuses `null` for a number field in a Connect unary JSON request (issue 13, defect 7). The
 * protobuf JSON mapping reads `null` as the field's default, so `{"metric": {"value": null}}` —
 * what a Python client sends for None — was stored as the metric value 0: lost data, silently.
 * Absent fields keep their proto3 meaning (0; protobuf JSON writers leave zeros out), so only an
 * explicit null is refused, with INVALID_ARGUMENT naming the field (`metrics[2].value`).
 *
 * connect-es (2.1) offers no hook between JSON.parse and fromJson, but its unary handler accepts a
 * body already parsed: this wrapper reads the body (within the same size limit, decompressing
 * gzip/br as connect-es would), checks it, and hands the parsed value on, so it is parsed once.
 * Only methods whose input can hold a singular double or float field are wrapped.
 */
import type { DescField, DescMessage, JsonValue } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { readAllBytes } from "@connectrpc/connect/protocol";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { commonErrors } from "../../core/errors/index.js";
import { parseContentType } from "../protocol/content-type.js";
import { connectUnaryError } from "./connect-error-body.js";

const numberTypes = new Set([ScalarType.DOUBLE, ScalarType.FLOAT]);

/** Whether a message of `desc` can hold a singular double or float field, at any depth. */
function hasNumberField(desc: DescMessage, seen = new Set<string>()): boolean {
  if (seen.has(desc.typeName)) return false;
  seen.add(desc.typeName);
  return desc.fields.some((f) => {
    if (f.fieldKind === "scalar") return numberTypes.has(f.scalar);
    if (f.fieldKind === "message") return hasNumberField(f.message, seen);
    if (f.fieldKind === "list" && f.listKind === "message") return hasNumberField(f.message, seen);
    if (f.fieldKind === "map" && f.mapKind === "message") return hasNumberField(f.message, seen);
    return false;
  });
}

/** The field of `desc` a JSON key names (its JSON name or its proto name), if any. */
function fieldOf(desc: DescMessage, key: string): DescField | undefined {
  return desc.fields.find((f) => f.jsonName === key || f.name === key);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The path of the first singular double/float field set to null in `json` (a `desc` message), if any. */
export function findNullNumber(desc: DescMessage, json: unknown, path = ""): string | undefined {
  if (!isObject(json)) return undefined;
  for (const [key, value] of Object.entries(json)) {
    const field = fieldOf(desc, key);
    if (field === undefined) continue;
    const at = path === "" ? field.jsonName : `${path}.${field.jsonName}`;
    if (field.fieldKind === "scalar" && numberTypes.has(field.scalar) && value === null) return at;
    if (field.fieldKind === "message") {
      const found = findNullNumber(field.message, value, at);
      if (found !== undefined) return found;
    }
    if (field.fieldKind === "list" && field.listKind === "message" && Array.isArray(value)) {
      for (const [i, item] of value.entries()) {
        const found = findNullNumber(field.message, item, `${at}[${i}]`);
        if (found !== undefined) return found;
      }
    }
    if (field.fieldKind === "map" && field.mapKind === "message" && isObject(value)) {
      for (const [k, item] of Object.entries(value)) {
        const found = findNullNumber(field.message, item, `${at}[${JSON.stringify(k)}]`);
        if (found !== undefined) return found;
      }
    }
  }
  return undefined;
}

/** A body that fails with `err` when read: connect-es then answers it in the call's protocol. */
async function* failing(err: unknown): AsyncIterable<Uint8Array> {
  yield* [];
  throw err;
}

async function* only(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** The parsed JSON of a Connect unary body, or the bytes to hand on unparsed (connect-es reports what is wrong). */
async function readJson(req: UniversalServerRequest, maxBytes: number): Promise<UniversalServerRequest["body"]> {
  const body = req.body;
  if (!(typeof body === "object" && body !== null && Symbol.asyncIterator in body)) return body;
  let bytes: Uint8Array;
  try {
    bytes = await readAllBytes(body, maxBytes, req.header.get("content-length"));
  } catch (err) {
    return failing(err);
  }
  const encoding = req.header.get("content-encoding")?.trim().toLowerCase() ?? "identity";
  const compression = [compressionGzip, compressionBrotli].find((c) => c.name === encoding);
  let text = bytes;
  if (encoding !== "identity") {
    if (compression === undefined) return only(bytes);
    try {
      text = await compression.decompress(bytes, maxBytes);
    } catch {
      return only(bytes);
    }
  }
  try {
    return JSON.parse(new TextDecoder().decode(text)) as JsonValue;
  } catch {
    return only(bytes);
  }
}

/**
 * Wraps one of the router's handlers so that a Connect unary JSON POST whose message sets a
 * double or float field to null is answered INVALID_ARGUMENT; other requests pass unchanged.
 * `maxBytes` is the handler's own limit (MAX_REQUEST_BYTES).
 */
export function withJsonNullNumbersRefused(handler: UniversalHandler, maxBytes: number): UniversalHandler {
  const { method } = handler;
  if (method.methodKind !== "unary" || !hasNumberField(method.input)) return handler;
  const wrapped = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const type = parseContentType(req.header.get("content-type") ?? undefined);
    if (req.method !== "POST" || type?.protocol !== "connect" || type.enveloped || type.codec !== "json") {
      return handler(req);
    }
    const body = await readJson(req, maxBytes);
    const field = findNullNumber(method.input, body);
    if (field === undefined) return handler({ ...req, body });
    const encoded = connectUnaryError(
      commonErrors.invalidArgument(field, 'null is not a number (leave the field out for 0, or send "NaN")'),
    );
    const header = new Headers({
      "content-type": "application/json",
      "content-length": String(encoded.body.byteLength),
    });
    return { status: encoded.status, header, body: only(encoded.body) };
  };
  return Object.assign(wrapped, {
    protocolNames: handler.protocolNames,
    service: handler.service,
    method: handler.method,
    requestPath: handler.requestPath,
    allowedMethods: handler.allowedMethods,
    supportedContentType: handler.supportedContentType,
  });
}
