/**
 * Helpers of the inference server's integration tests: start a server on ephemeral ports with a
 * test model, read Prometheus metrics, call the JSON routes.
 */

import { type InferenceServer, startInferenceServer } from "../../app/inference-server.js";
import { loadConfig } from "../../core/config.js";
import { createLogger } from "../../core/logger.js";

/** The MODEL_HANDLER fixture of the tests (see test/fixtures/test-handler.ts). */
export const testHandlerPath = new URL("../fixtures/test-handler.ts", import.meta.url).pathname;

/**
 * Starts a server on 127.0.0.1 with an ephemeral port; `env` adds or overrides variables
 * (INFERENCE_GRPC_PORT: "0" adds a second, gRPC port).
 */
export function startTestServer(env: Readonly<Record<string, string>>): Promise<InferenceServer> {
  const config = loadConfig({
    HOST: "127.0.0.1",
    INFERENCE_PORT: "0",
    INFERENCE_WORKERS: "2",
    LOG_LEVEL: "silent",
    ...env,
  });
  return startInferenceServer(config, createLogger({ level: config.logLevel, name: "inference-test" }));
}

/** Sums the samples of a metric whose labels include `labels` in Prometheus text `text`. */
export function metricValue(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = new Map<string, string>();
    for (const pair of (m[3] ?? "").matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) {
      if (pair[1] !== undefined && pair[2] !== undefined) have.set(pair[1], pair[2]);
    }
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[4]);
  }
  return sum;
}

/** Reads one metric from a running server's GET /metrics. */
export async function readMetric(
  baseUrl: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): Promise<number> {
  const res = await fetch(`${baseUrl}/metrics`);
  return metricValue(await res.text(), name, labels);
}

/** Polls `probe` until it returns true (no timing asserted: the test timeout bounds it). */
export async function until(probe: () => Promise<boolean>): Promise<void> {
  while (!(await probe())) await new Promise((r) => setTimeout(r, 10));
}

/** A JSON response: status, headers and parsed body. */
export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

/** POSTs a body (an object is JSON-encoded, a string is sent as is) to a JSON route. */
export async function postJson(
  url: string,
  body: unknown,
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<JsonResponse> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...init.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...(init.signal === undefined ? {} : { signal: init.signal }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}
