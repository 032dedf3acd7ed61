/**
 * Helpers of the tests of a node:cluster inference server (`mlpipe serve` or `mlpipe start` with
 * INFERENCE_HTTP_WORKERS > 1): its worker processes found in /proc (Linux), and HTTP requests on
 * a connection of their own, which the primary hands to its workers in turn (round-robin), so
 * consecutive ones reach different processes.
 */
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";

/** True while `pid` runs; a zombie (exited, not yet reaped by its parent) counts as gone. */
export function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
}

/** The pids of a primary's HTTP worker processes: its children running mlpipe (not tsx's esbuild). */
export function workerProcessIds(primaryPid: number): number[] {
  const pids: number[] = [];
  for (const tid of readdirSync(`/proc/${primaryPid}/task`)) {
    const text = readFileSync(`/proc/${primaryPid}/task/${tid}/children`, "utf8").trim();
    if (text !== "") pids.push(...text.split(" ").map(Number));
  }
  return pids.filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, "utf8").includes("mlpipe.js");
    } catch {
      return false;
    }
  });
}

/** The outcome of one request on a connection of its own: status and body, or the connection's error. */
export type Outcome = { readonly status: number; readonly body: Record<string, unknown> } | { readonly error: string };

/**
 * Sends a request on a new connection (no keep-alive agent), so that the primary picks its
 * worker. A JSON answer's body is parsed; any other is `{ text }`.
 */
export function requestOnNewConnection(
  url: string,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      `${url}${path}`,
      { method, agent: false, headers: payload === undefined ? {} : { "content-type": "application/json" } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => {
          const parsed: unknown = res.headers["content-type"]?.includes("json") ? JSON.parse(text) : { text };
          resolve({ status: res.statusCode ?? 0, body: parsed as Record<string, unknown> });
        });
        res.on("error", (err) => resolve({ error: err.message }));
      },
    );
    req.on("error", (err) => resolve({ error: err.message }));
    req.end(payload);
  });
}

/** POST /predict of one row on a new connection. */
export function predictOnNewConnection(url: string, features: readonly number[]): Promise<Outcome> {
  return requestOnNewConnection(url, "POST", "/predict", { features });
}

/** The text of GET /metrics (whichever process answers: the cluster aggregates); throws on failure. */
export async function clusterMetrics(url: string): Promise<string> {
  const out = await requestOnNewConnection(url, "GET", "/metrics");
  if ("error" in out || out.status !== 200) throw new Error(`GET /metrics: ${JSON.stringify(out)}`);
  return String(out.body.text);
}

/** True when GET /health/ready answers 200 on a new connection. */
export async function clusterReady(url: string): Promise<boolean> {
  const out = await requestOnNewConnection(url, "GET", "/health/ready");
  return "status" in out && out.status === 200;
}

/** A closed loop of one-row predictions on fresh connections (so on every process), see {@link startPredictLoad}. */
export interface PredictLoad {
  /** The `model_version` of each answer, in order. */
  readonly versions: readonly unknown[];
  /** Every request that did not answer 200. */
  readonly failures: readonly Outcome[];
  /** Stops sending; resolves once the request in flight answered. */
  stop(): Promise<void>;
}

/** Sends `features` to /predict one request after another, each on a new connection, until stopped. */
export function startPredictLoad(url: string, features: readonly number[]): PredictLoad {
  const versions: unknown[] = [];
  const failures: Outcome[] = [];
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      const out = await predictOnNewConnection(url, features);
      if ("error" in out || out.status !== 200) failures.push(out);
      else versions.push(out.body.model_version);
    }
  })();
  return {
    versions,
    failures,
    stop() {
      stopped = true;
      return running;
    },
  };
}
