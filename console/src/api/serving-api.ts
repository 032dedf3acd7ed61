/**
 * The Serving page's reads: the configured inference server's `/model/info` and `/metrics`,
 * through the registry's same-origin proxy (gateway/console/serving-proxy.ts).
 */
import { accessHeaders, type ConsoleAccess } from "./access.js";

/** What `/model/info` answers (the fields the page shows). */
export interface ModelInfo {
  readonly name: string;
  readonly version: string;
  /** The stage or alias the server follows. */
  readonly stage?: string;
  readonly aliases?: readonly string[];
  readonly source?: string;
  readonly loaded_at?: string;
  readonly task?: string;
  readonly serving?: boolean;
  readonly signature?: {
    readonly inputs: readonly TensorInfo[];
    readonly outputs: readonly TensorInfo[];
  };
}

/** One input or output of the served model. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
}

/** An error answer of the proxy or the inference server: `{"error": {code, id, message}}`. */
export class ServingError extends Error {
  override readonly name = "ServingError";
  constructor(
    readonly status: number,
    readonly id: string,
    message: string,
  ) {
    super(message);
  }
}

async function get(path: string, access: ConsoleAccess, signal: AbortSignal): Promise<Response> {
  const res = await fetch(`/console-api/serving${path}`, { headers: accessHeaders(access), signal });
  if (res.ok) return res;
  const body = (await res.json().catch(() => undefined)) as { error?: { id?: string; message?: string } } | undefined;
  throw new ServingError(res.status, body?.error?.id ?? "", body?.error?.message ?? `HTTP ${res.status}`);
}

/** The served model, as the inference server describes it. */
export async function fetchModelInfo(access: ConsoleAccess, signal: AbortSignal): Promise<ModelInfo> {
  return (await (await get("/model/info", access, signal)).json()) as ModelInfo;
}

/** The inference server's Prometheus metrics page. */
export async function fetchMetricsText(access: ConsoleAccess, signal: AbortSignal): Promise<string> {
  return (await get("/metrics", access, signal)).text();
}
