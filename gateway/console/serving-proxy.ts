/**
 * The console's window on an inference server: GET `/console-api/serving/model/info` and
 * `/console-api/serving/metrics` on the registry port answer what the configured inference
 * server's `/model/info` and `/metrics` answer. A same-origin proxy rather than CORS on the
 * inference server: the inference server's address need not be reachable from the browser (a
 * cluster-internal Service), its hot path gets no CORS handling, and the console's content
 * security policy can stay `connect-src 'self'`. Only these two GET paths are forwarded, to the
 * one configured URL, so the registry cannot be used to reach anything else. With authentication
 * on (REGISTRY_AUTH=token) the caller must present valid credentials, as for the APIs, and its
 * `Authorization` header is passed on, so an inference server that requires a token
 * (INFERENCE_AUTH) sees the console user's own.
 */

import { consoleErrors } from "../../core/errors/console-errors.js";
import { authErrors, commonErrors, MlpipeError } from "../../core/errors/index.js";
import type { Logger } from "../../core/logger.js";
import type { Authenticator } from "../auth/bearer-authenticator.js";
import { endBody, type HttpRoute } from "../http/http-route.js";
import { sendJsonError } from "../protocol-json/json-response.js";

/** Path prefix of the proxy on the registry port. */
export const servingProxyPrefix = "/console-api/serving";

/** Registry path -> inference server path. */
const forwarded: ReadonlyMap<string, string> = new Map([
  [`${servingProxyPrefix}/model/info`, "/model/info"],
  [`${servingProxyPrefix}/metrics`, "/metrics"],
]);

/** Options of {@link createServingProxy}. */
export interface ServingProxyOptions {
  /**
   * Base URL of the inference server, asked at each request (`mlpipe start` knows its own only once
   * it listens); undefined answers CONSOLE_INFERENCE_NOT_CONFIGURED.
   */
  readonly inferenceUrl: () => string | undefined;
  /** How long the inference server may take to answer, ms (default 5000). */
  readonly timeoutMs?: number;
  /** Largest answer passed on, bytes (default 4 MiB; a metrics page is tens of KB). */
  readonly maxBytes?: number;
  readonly logger: Logger;
  /** The edge's authenticator when auth is on: requests without valid credentials are refused (401). */
  readonly authenticate?: Authenticator | undefined;
}

/** Creates the proxy route. */
export function createServingProxy(options: ServingProxyOptions): HttpRoute {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const target = forwarded.get((req.url ?? "").split("?", 1)[0] ?? "");
    if (target === undefined) return false;
    const authorization = req.headers.authorization;
    void authorize(options.authenticate, authorization)
      .then(async () => {
        const base = options.inferenceUrl();
        if (base === undefined) throw consoleErrors.inferenceNotConfigured();
        const url = `${base}${target}`;
        try {
          return await forward(url, authorization, timeoutMs, maxBytes);
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          options.logger.debug({ err, url }, "console serving proxy: no answer");
          throw consoleErrors.inferenceUnreachable(base, reason);
        }
      })
      .then(
        (answer) => {
          if (res.destroyed) return;
          res.writeHead(answer.status, {
            "content-type": answer.contentType,
            "content-length": String(answer.body.length),
            "cache-control": "no-store",
          });
          endBody(req, res, answer.body);
        },
        (err: unknown) => {
          if (res.destroyed) return;
          // Authentication's and the proxy's own errors are MlpipeErrors; anything else is a fault.
          if (!(err instanceof MlpipeError)) options.logger.error({ err }, "console serving proxy failed");
          sendJsonError(res, err instanceof MlpipeError ? err : commonErrors.internal(err));
        },
      );
    return true;
  };
}

/** Refuses (with the auth error) a request without valid credentials when auth is on. */
async function authorize(authenticate: Authenticator | undefined, authorization: string | undefined): Promise<void> {
  if (authenticate === undefined) return;
  const headers = new Headers(authorization === undefined ? {} : { authorization });
  if ((await authenticate(headers)) === undefined) throw authErrors.unauthenticated();
}

/** The inference server's answer, read whole. */
interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

async function forward(
  url: string,
  authorization: string | undefined,
  timeoutMs: number,
  maxBytes: number,
): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(url, {
      redirect: "error",
      signal: AbortSignal.timeout(timeoutMs),
      headers: authorization === undefined ? {} : { authorization },
    });
  } catch (err) {
    throw new Error(describeFetchError(err, timeoutMs), { cause: err });
  }
  const declared = Number(res.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new Error(`its answer is larger than ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (res.body !== null) {
    for await (const chunk of res.body) {
      size += chunk.length;
      if (size > maxBytes) throw new Error(`its answer is larger than ${maxBytes} bytes`);
      chunks.push(Buffer.from(chunk));
    }
  }
  return {
    status: res.status,
    contentType: res.headers.get("content-type") ?? "application/octet-stream",
    body: Buffer.concat(chunks),
  };
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof DOMException && err.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  const cause = err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
  if (cause?.code !== undefined) return cause.code === "ECONNREFUSED" ? "connection refused" : cause.code;
  return err instanceof Error ? err.message : String(err);
}
