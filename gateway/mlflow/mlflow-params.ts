/**
 * The parameters of an MLflow REST request and their typed reading, as MLflow's server parses
 * them (mlflow/server/handlers.py `_get_request_message`): the query string of a GET (a key given
 * several times, or as `key[]`, is a list), the JSON object of any other method's body (one
 * double-encoded as a JSON string is decoded again, as for older clients; an empty body is `{}`),
 * and for a DELETE without a body its query, since clients send either. Field types follow
 * protobuf's JSON mapping, which MLflow parses with: int64 as a number or a decimal string,
 * doubles also as "NaN", "Infinity", "-Infinity", booleans also as "true"/"false" in a query.
 * Every mistake is INVALID_ARGUMENT naming the field (MLflow's INVALID_PARAMETER_VALUE).
 */
import { commonErrors } from "../../core/errors/index.js";
import type { HttpRequest } from "../http/http-route.js";
import { type BodyLimits, parseJsonObject, readBody } from "../protocol-json/request-body.js";

/** A request's parameters by field name: JSON values, or strings and string lists from a query. */
export type MlflowParams = Readonly<Record<string, unknown>>;

/** The parameters of a query string (`?a=1&b=2&b=3` gives `{a: "1", b: ["2", "3"]}`). */
export function queryParams(url: string): Record<string, string | string[]> {
  const at = url.indexOf("?");
  const params: Record<string, string | string[]> = {};
  if (at < 0) return params;
  for (const [rawKey, value] of new URLSearchParams(url.slice(at + 1))) {
    // `key[]` and `key[0]` (what some clients send for lists) name the list `key`.
    const list = /^(.*)\[\d*\]$/.exec(rawKey);
    const key = list?.[1] ?? rawKey;
    const before = params[key];
    if (before === undefined) params[key] = list === null ? value : [value];
    else params[key] = Array.isArray(before) ? [...before, value] : [before, value];
  }
  return params;
}

/**
 * Reads the parameters of `req` (see the module comment); bodies are bounded in size and in the
 * time they take to arrive (`limits`: REQUEST_TOO_LARGE, REQUEST_TIMEOUT).
 */
export async function readMlflowParams(req: HttpRequest, limits: BodyLimits): Promise<MlflowParams> {
  if (req.method === "GET" || req.method === "HEAD") return queryParams(req.url ?? "");
  const body = await readBody(req, limits.maxBytes, limits.timeoutMs);
  if (body.byteLength === 0 || body.toString("utf8").trim() === "") {
    return req.method === "DELETE" ? queryParams(req.url ?? "") : {};
  }
  let text = body;
  // A body that is one JSON string holding the object: decode it once more.
  if (body.toString("utf8").trimStart().startsWith('"')) {
    let inner: unknown;
    try {
      inner = JSON.parse(body.toString("utf8"));
    } catch {
      inner = undefined;
    }
    if (typeof inner === "string") text = Buffer.from(inner);
  }
  return parseJsonObject(text, "a JSON object");
}

function wrongType(field: string, expected: string, value: unknown): never {
  throw commonErrors.invalidArgument(field, `must be ${expected}, got ${JSON.stringify(value) ?? typeof value}`);
}

/** A string field; undefined when absent (or JSON null). */
export function optionalString(params: MlflowParams, field: string): string | undefined {
  const value = params[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") wrongType(field, "a string", value);
  return value;
}

/** A string field; "" when absent (protobuf's default), which the service then judges. */
export function stringField(params: MlflowParams, field: string): string {
  return optionalString(params, field) ?? "";
}

/** A required field's absence, as MLflow words it. */
export function missing(field: string): never {
  throw commonErrors.invalidArgument(field, `missing value for required parameter '${field}'`);
}

/** The run id of a request: `run_id`, else the deprecated `run_uuid` older clients still send. */
export function runIdField(params: MlflowParams): string {
  return optionalString(params, "run_id") || stringField(params, "run_uuid");
}

const int64Text = /^-?\d{1,19}$/;
const minInt64 = -(2n ** 63n);
const maxInt64 = 2n ** 63n - 1n;

/** An int64 field (a JSON integer or a decimal string); undefined when absent. */
export function optionalInt64(params: MlflowParams, field: string): bigint | undefined {
  const value = params[field];
  if (value === undefined || value === null) return undefined;
  let parsed: bigint | undefined;
  if (typeof value === "number" && Number.isSafeInteger(value)) parsed = BigInt(value);
  else if (typeof value === "string" && int64Text.test(value.trim())) parsed = BigInt(value.trim());
  if (parsed === undefined || parsed < minInt64 || parsed > maxInt64) wrongType(field, "an integer", value);
  return parsed;
}

/** A page size (`max_results`): an integer within int32; 0 when absent (the service's default). */
export function pageSizeField(params: MlflowParams, field = "max_results"): number {
  const value = optionalInt64(params, field);
  if (value === undefined) return 0;
  if (value < 0n || value > 2_147_483_647n) wrongType(field, "a positive 32-bit integer", params[field]);
  return Number(value);
}

const specialDoubles: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  "-Infinity": Number.NEGATIVE_INFINITY,
};

/** A double field (a JSON number, a numeric string, "NaN", "Infinity", "-Infinity"); undefined when absent. */
export function optionalDouble(params: MlflowParams, field: string): number | undefined {
  const value = params[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") return value;
  if (typeof value === "string") {
    const special = specialDoubles[value];
    if (special !== undefined) return special;
    if (value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  }
  return wrongType(field, "a number", value);
}

/** A boolean field (true/false, or "true"/"false" in any case from a query); false when absent. */
export function boolField(params: MlflowParams, field: string): boolean {
  const value = params[field];
  if (value === undefined || value === null) return false;
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
  return wrongType(field, "a boolean", value);
}

/** A repeated string field: a JSON array of strings, or one or more query values; [] when absent. */
export function stringList(params: MlflowParams, field: string): string[] {
  const value = params[field];
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return [value];
  if (!Array.isArray(value)) wrongType(field, "a list of strings", value);
  return value.map((item, i) => (typeof item === "string" ? item : wrongType(`${field}[${i}]`, "a string", item)));
}

/** A repeated message field: a JSON array of objects; [] when absent. Items are named `field[i]`. */
export function objectList(params: MlflowParams, field: string): MlflowParams[] {
  const value = params[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) wrongType(field, "a list of objects", value);
  return value.map((item, i) =>
    typeof item === "object" && item !== null && !Array.isArray(item)
      ? (item as MlflowParams)
      : wrongType(`${field}[${i}]`, "an object", item),
  );
}

/** A message field: a JSON object; undefined when absent. */
export function optionalObject(params: MlflowParams, field: string): MlflowParams | undefined {
  const value = params[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) wrongType(field, "an object", value);
  return value as MlflowParams;
}

/** MLflow's key-value lists (tags, params): `[{"key": ..., "value": ...}]`, a missing value being "". */
export function keyValueList(params: MlflowParams, field: string): { key: string; value: string }[] {
  return objectList(params, field).map((item, i) => ({
    key: stringField(item, "key") || missing(`${field}[${i}].key`),
    value: stringField(item, "value"),
  }));
}

/** A key-value list as a map, the last value of a repeated key winning (MLflow's rule for tags). */
export function keyValueMap(params: MlflowParams, field: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const { key, value } of keyValueList(params, field)) map[key] = value;
  return map;
}

/**
 * An enum given by name (`"RUNNING"`, any case) or number, as protobuf's JSON mapping reads
 * enums; undefined when absent. `names` maps each accepted upper-case name to its value.
 */
export function optionalEnum<T>(
  params: MlflowParams,
  field: string,
  names: Readonly<Record<string, T>>,
  numbers: Readonly<Record<number, T>> = {},
): T | undefined {
  const value = params[field];
  if (value === undefined || value === null) return undefined;
  const found =
    typeof value === "string"
      ? (names[value.toUpperCase()] ?? (/^\d+$/.test(value) ? numbers[Number(value)] : undefined))
      : typeof value === "number"
        ? numbers[value]
        : undefined;
  if (found === undefined) wrongType(field, `one of ${Object.keys(names).join(", ")}`, value);
  return found;
}
