/**
 * JSON `POST /predict` calls (node:http keep-alive, the bodies of inference-clients.ts's http-json
 * client) that read each answer's `model_version`: what a traffic split measured from the callers'
 * side needs, and what wrk's request loop cannot give. Parsing a small JSON answer costs a few µs
 * of the generator's CPU per request.
 */
import http from "node:http";
import { predictJsonBodies, requestTimeoutMs } from "./inference-clients.js";
import { HttpStatusError } from "./load-generator.js";
import type { VersionedCall } from "./phased-open-loop.js";

/** A JSON /predict client whose calls resolve with the version that answered. */
export interface VersionedJsonClient {
  readonly predict: VersionedCall;
  /** Closes its connections. */
  close(): void;
}

/** The `model_version` of a /predict answer; throws when the body has none (a broken answer is a failure). */
export function modelVersionOf(body: string): string {
  const parsed: unknown = JSON.parse(body);
  if (typeof parsed === "object" && parsed !== null && "model_version" in parsed) {
    const version = (parsed as { model_version: unknown }).model_version;
    if (typeof version === "string" && version !== "") return version;
  }
  throw new Error("answer without a model_version");
}

/** Calls `<url>/predict` with the corpus rows in turn, over at most `maxSockets` keep-alive connections. */
export function createVersionedJsonClient(
  url: string,
  rows: readonly (readonly number[])[],
  maxSockets = 256,
): VersionedJsonClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const target = new URL("/predict", url);
  const bodies = predictJsonBodies(rows).map((b) => Buffer.from(b));
  let next = 0;
  const predict: VersionedCall = () =>
    new Promise<string>((resolve, reject) => {
      const body = bodies[next++ % bodies.length] ?? Buffer.from("{}");
      const req = http.request(
        target,
        {
          method: "POST",
          agent,
          headers: { "content-type": "application/json", "content-length": body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.once("end", () => {
            const status = res.statusCode ?? 0;
            if (status !== 200) {
              reject(new HttpStatusError(status));
              return;
            }
            try {
              resolve(modelVersionOf(Buffer.concat(chunks).toString("utf8")));
            } catch (err) {
              reject(err);
            }
          });
          res.once("error", reject);
        },
      );
      req.once("error", reject);
      req.setTimeout(requestTimeoutMs, () => req.destroy(new HttpStatusError(408)));
      req.end(body);
    });
  return { predict, close: () => agent.destroy() };
}
