/**
 * Reading the body of a JSON request: bounded in size (a body over the limit is refused as soon
 * as its Content-Length or its bytes so far exceed it, never buffered whole) and parsed into an
 * object, with errors that name what is wrong.
 */
import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { commonErrors } from "../../core/errors/index.js";

/**
 * Reads a request's body, at most `limit` bytes. Rejects with REQUEST_TOO_LARGE when its
 * Content-Length or the bytes received go beyond (the rest is not read), CANCELED when the
 * request fails (the client went away mid-body).
 */
export function readBody(req: IncomingMessage | Http2ServerRequest, limit: number): Promise<Buffer> {
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

/**
 * Parses a body as a JSON object: INVALID_ARGUMENT (field "body") for malformed JSON, with the
 * parser's reason, or for JSON that is not an object (`expected` says what it should be).
 */
export function parseJsonObject(body: Buffer, expected: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw commonErrors.invalidArgument(
      "body",
      `malformed JSON (${err instanceof Error ? err.message : "parse error"})`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw commonErrors.invalidArgument("body", `must be ${expected}`);
  }
  return value as Record<string, unknown>;
}
