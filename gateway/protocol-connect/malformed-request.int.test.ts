/**
 * A request message that is not valid protobuf is the client's mistake: INVALID_ARGUMENT on every
 * protocol of the RPC edge (gateway/protocol-connect/malformed-request-status.ts), checked on the registry server
 * (the inference server's tests check its Predict). Real server, real sockets: grpc-js for gRPC,
 * fetch for Connect and gRPC-Web.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";
import {
  GetRegisteredModelRequestSchema,
  GetRegisteredModelResponseSchema,
} from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { grpcErrorDetails, isServiceError } from "../../test/support/grpc-client.js";
import { startTestRegistryServer, type TestRegistryServer } from "../../test/support/registry-server.js";

/** Field 1 (a string) whose length varint never ends. */
const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff]);
const getModel = "/mlpipe.registry.v1.RegistryService/GetRegisteredModel";
const download = "/mlpipe.registry.v1.RegistryService/DownloadModelVersion";

let registry: TestRegistryServer;

beforeAll(async () => {
  registry = await startTestRegistryServer({ logLevel: "silent" });
});

afterAll(async () => {
  await registry?.close();
});

/** A gRPC call with raw request bytes; resolves the error (or undefined on success). */
function rawGrpc(path: string, bytes: Buffer, stream = false): Promise<grpc.ServiceError | undefined> {
  const client = new grpc.Client(registry.address, grpc.credentials.createInsecure());
  const identity = (b: Buffer): Buffer => b;
  return new Promise<grpc.ServiceError | undefined>((resolve) => {
    if (stream) {
      const call = client.makeServerStreamRequest(path, identity, identity, bytes);
      call.on("data", () => {});
      call.on("error", (err: grpc.ServiceError) => resolve(err));
      call.on("end", () => resolve(undefined));
      return;
    }
    client.makeUnaryRequest(path, identity, identity, bytes, (err) => resolve(err ?? undefined));
  }).finally(() => client.close());
}

function envelope(flags: number, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(payload.byteLength, 1);
  return Buffer.concat([head, payload]);
}

/** The envelopes of a gRPC-Web or Connect streaming response body. */
function envelopes(body: Buffer): { flags: number; payload: Buffer }[] {
  const out: { flags: number; payload: Buffer }[] = [];
  for (let at = 0; at + 5 <= body.byteLength; ) {
    const length = body.readUInt32BE(at + 1);
    out.push({ flags: body.readUInt8(at), payload: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

async function post(path: string, contentType: string, body: Buffer): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(`${registry.url}${path}`, {
    method: "POST",
    headers: { "content-type": contentType, "connect-protocol-version": "1" },
    body,
  });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

describe("malformed protobuf request messages", () => {
  it("gRPC: INVALID_ARGUMENT with mlpipe's ErrorDetail, for unary and server-streaming methods", async () => {
    for (const [path, stream] of [
      [getModel, false],
      [download, true],
    ] as const) {
      const err = await rawGrpc(path, garbage, stream);
      if (!isServiceError(err)) throw new Error(`expected a gRPC error from ${path}`);
      expect(err.code, err.details).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/invalid request: not a valid mlpipe\.registry\.v1\.\w+ message/);
      expect(grpcErrorDetails(err, ErrorDetailSchema)[0]).toMatchObject({ id: "INVALID_ARGUMENT", field: "request" });
    }
  });

  it("Connect unary: HTTP 400 invalid_argument", async () => {
    const res = await post(getModel, "application/proto", garbage);
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body.toString("utf8")) as Record<string, unknown>;
    expect(body.code).toBe("invalid_argument");
    expect(body.message).toMatch(/not a valid mlpipe\.registry\.v1\.GetRegisteredModelRequest message/);
  });

  it("Connect streaming: an end-of-stream error invalid_argument", async () => {
    const res = await post(download, "application/connect+proto", envelope(0, garbage));
    expect(res.status).toBe(200);
    const frames = envelopes(res.body);
    expect(frames).toHaveLength(1);
    expect(frames[0]?.flags).toBe(0b10);
    const end = JSON.parse(frames[0]?.payload.toString("utf8") ?? "{}") as { error?: Record<string, unknown> };
    expect(end.error?.code).toBe("invalid_argument");
  });

  it("gRPC-Web: a trailer frame with grpc-status 3", async () => {
    const res = await post(getModel, "application/grpc-web+proto", envelope(0, garbage));
    expect(res.status).toBe(200);
    const trailer = envelopes(res.body).find((f) => (f.flags & 0x80) === 0x80);
    expect(trailer?.payload.toString("utf8")).toMatch(/grpc-status: ?3\r\n/);
  });

  it("answers an unknown procedure in Connect's shape, with the ErrorDetail id, and a JSON route's in JSON", async () => {
    const unknown = "/mlpipe.registry.v1.RegistryService/NoSuchMethod";
    const res = await post(unknown, "application/json", Buffer.from("{}"));
    expect(res.status).toBe(404);
    const body = JSON.parse(res.body.toString("utf8")) as { code: string; message: string; details?: unknown[] };
    expect(body.code).toBe("not_found");
    expect(body.message).toBe(`no route for ${unknown}`);
    expect(body.details).toHaveLength(1);
    const json = await fetch(`${registry.url}/no/such/route`, {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    expect(json.status).toBe(404);
    expect(await json.json()).toMatchObject({ error: { code: "not_found", id: "ROUTE_NOT_FOUND" } });
  });

  it("leaves well-formed requests and their errors alone", async () => {
    const request = Buffer.from(
      toBinary(GetRegisteredModelRequestSchema, create(GetRegisteredModelRequestSchema, { name: "nope" })),
    );
    const err = await rawGrpc(getModel, request);
    expect(err?.code).toBe(grpc.status.NOT_FOUND);
    const res = await post(getModel, "application/proto", request);
    expect(res.status).toBe(404);
    expect((JSON.parse(res.body.toString("utf8")) as Record<string, unknown>).code).toBe("not_found");
    // And a success passes through byte for byte.
    await post(
      "/mlpipe.registry.v1.RegistryService/CreateRegisteredModel",
      "application/json",
      Buffer.from('{"name":"ok"}'),
    );
    const ok = await post(
      getModel,
      "application/proto",
      Buffer.from(toBinary(GetRegisteredModelRequestSchema, create(GetRegisteredModelRequestSchema, { name: "ok" }))),
    );
    expect(ok.status).toBe(200);
    expect(fromBinary(GetRegisteredModelResponseSchema, ok.body).registeredModel?.name).toBe("ok");
  });
});
