/**
 * The Connect protocol's edge cases on a real registry server over real sockets (raw fetch and
 * node:http, plus the connect-node client): deadlines that pass while the body arrives, request
 * encodings the server does not decompress, bodies over MAX_REQUEST_BYTES, undecodable bodies.
 * Every error answer carries mlpipe's ErrorDetail with its catalogue id.
 */
import { request as httpRequest } from "node:http";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";
import { RegistryService } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { startTestRegistryServer, type TestRegistryServer } from "../../test/support/registry-server.js";

const maxRequestBytes = 64 * 1024;
const createModel = "/mlpipe.registry.v1.RegistryService/CreateRegisteredModel";

let registry: TestRegistryServer;

beforeAll(async () => {
  registry = await startTestRegistryServer({ logLevel: "silent", env: { MAX_REQUEST_BYTES: String(maxRequestBytes) } });
});

afterAll(async () => {
  await registry?.close();
});

interface ConnectErrorJson {
  readonly code?: string;
  readonly message?: string;
  readonly details?: readonly { readonly type?: string; readonly value?: string }[];
}

/** The catalogue id in a Connect JSON error's ErrorDetail (undefined when it has none). */
function detailId(error: ConnectErrorJson): string | undefined {
  const detail = error.details?.find((d) => d.type === "mlpipe.common.v1.ErrorDetail");
  if (detail?.value === undefined) return undefined;
  return fromBinary(ErrorDetailSchema, Buffer.from(detail.value, "base64")).id;
}

async function post(
  headers: Record<string, string>,
  body: Buffer | string,
): Promise<{ status: number; headers: Headers; json: ConnectErrorJson }> {
  const res = await fetch(`${registry.url}${createModel}`, {
    method: "POST",
    headers: { "content-type": "application/json", "connect-protocol-version": "1", ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as ConnectErrorJson };
}

/**
 * A unary Connect call whose body is sent in part and then held: the deadline passes while the
 * body is arriving. Resolves the answer; the request is destroyed once answered.
 */
function postStalled(timeoutMs: number): Promise<{ status: number; json: ConnectErrorJson }> {
  const url = new URL(`${registry.url}${createModel}`);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "connect-protocol-version": "1",
          "connect-timeout-ms": String(timeoutMs),
          "content-length": "50000",
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          req.destroy();
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
          } catch (err) {
            reject(err);
          }
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.setTimeout(20_000, () => req.destroy(new Error("no answer within 20 s")));
    req.write(`{"name":"${"x".repeat(1000)}`);
  });
}

describe("Connect edge cases", () => {
  it("a deadline that passes while the body arrives: 504 deadline_exceeded, id DEADLINE_EXCEEDED", async () => {
    const res = await postStalled(200);
    expect(res.status).toBe(504);
    expect(res.json.code).toBe("deadline_exceeded");
    expect(detailId(res.json)).toBe("DEADLINE_EXCEEDED");
  });

  it("an unsupported Content-Encoding: 501 unimplemented, id UNSUPPORTED_ENCODING, the accepted encodings", async () => {
    const res = await post({ "content-encoding": "zstd" }, '{"name":"m"}');
    expect(res.status).toBe(501);
    expect(res.json.code).toBe("unimplemented");
    expect(detailId(res.json)).toBe("UNSUPPORTED_ENCODING");
    expect(res.headers.get("accept-encoding")).toMatch(/gzip/);
  });

  it("an unsupported Connect-Content-Encoding on a stream: unimplemented, id UNSUPPORTED_ENCODING", async () => {
    const res = await fetch(`${registry.url}/mlpipe.registry.v1.RegistryService/DownloadModelVersion`, {
      method: "POST",
      headers: { "content-type": "application/connect+json", "connect-content-encoding": "zstd" },
      body: Buffer.from([0, 0, 0, 0, 2, 0x7b, 0x7d]),
    });
    const text = Buffer.from(await res.arrayBuffer());
    const end = JSON.parse(text.subarray(5).toString("utf8")) as {
      error?: ConnectErrorJson;
      metadata?: Record<string, string[]>;
    };
    expect(end.error?.code).toBe("unimplemented");
    expect(detailId(end.error ?? {})).toBe("UNSUPPORTED_ENCODING");
    // On a stream, the error's metadata (the accepted encodings) travels in the end-of-stream message.
    expect(end.metadata?.["connect-accept-encoding"]?.join(",")).toMatch(/gzip/);
  });

  it("a body over MAX_REQUEST_BYTES: 429 resource_exhausted (Connect's mapping), id REQUEST_TOO_LARGE", async () => {
    const res = await post({}, `{"name":"${"x".repeat(maxRequestBytes)}"}`);
    expect(res.status).toBe(429);
    expect(res.json.code).toBe("resource_exhausted");
    expect(detailId(res.json)).toBe("REQUEST_TOO_LARGE");
  });

  it("a JSON body that does not decode: 400 invalid_argument, id INVALID_ARGUMENT", async () => {
    for (const body of ["{not json", '{"nmae":"typo"}']) {
      const res = await post({}, body);
      expect(res.status, body).toBe(400);
      expect(res.json.code).toBe("invalid_argument");
      expect(detailId(res.json), body).toBe("INVALID_ARGUMENT");
    }
  });

  it("connect-node client: the same codes and ids", async () => {
    const client = createClient(RegistryService, createConnectTransport({ baseUrl: registry.url, httpVersion: "1.1" }));
    const err = await client.createRegisteredModel({ name: "x".repeat(maxRequestBytes) }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.findDetails(ErrorDetailSchema)[0]?.id).toBe("REQUEST_TOO_LARGE");
  });
});
