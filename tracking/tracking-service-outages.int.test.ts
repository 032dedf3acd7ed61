import { createHash, randomBytes } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../core/errors/code.js";
import { ErrorDetailSchema } from "../gen/mlpipe/common/v1/error_pb.js";
import { TrackingService, type UploadArtifactRequestSchema } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { createGrpcClient, type GrpcClient, grpcErrorDetails, isServiceError } from "../test/support/grpc-client.js";
import { startPostgres, type TestPostgres } from "../test/support/postgres.js";
import { startTestRegistryServer, type TestRegistryServer } from "../test/support/registry-server.js";
import { startS3Server, type TestS3 } from "../test/support/s3-server.js";

/*
 * The registry server on its production dependencies, a real PostgreSQL and a real S3-protocol
 * server, and what callers see when either goes away and comes back: UNAVAILABLE with a clear
 * message while it is down, nothing half-written, the server itself up throughout, and normal
 * answers once the dependency is back.
 */

const MiB = 1024 * 1024;
type Upload = MessageInitShape<typeof UploadArtifactRequestSchema>;

let postgres: TestPostgres;
let s3: TestS3;
let server: TestRegistryServer;
let grpc: GrpcClient<typeof TrackingService.method>;

beforeAll(async () => {
  [postgres, s3] = await Promise.all([startPostgres(), startS3Server()]);
  const c = s3.s3Config;
  server = await startTestRegistryServer({
    env: {
      DATABASE_URL: await postgres.createDatabase(),
      DATABASE_POOL_SIZE: "4",
      ARTIFACT_ROOT: `s3://${s3.bucket}/mlpipe`,
      S3_ENDPOINT_URL: c.endpointUrl ?? "",
      AWS_REGION: c.region,
      AWS_ACCESS_KEY_ID: c.accessKeyId ?? "",
      AWS_SECRET_ACCESS_KEY: c.secretAccessKey ?? "",
      S3_FORCE_PATH_STYLE: String(c.forcePathStyle),
      S3_MULTIPART_PART_SIZE: String(c.multipartPartSize),
    },
  });
  grpc = createGrpcClient(TrackingService, server.address);
});

afterAll(async () => {
  grpc?.close();
  await server?.close();
  await Promise.all([postgres?.cleanup(), s3?.dispose()]);
});

/** The gRPC status, message and ErrorDetail id of a call that must fail. */
async function failure(
  call: () => Promise<unknown>,
): Promise<{ code: number; message: string; id: string | undefined }> {
  try {
    await call();
  } catch (err) {
    if (!isServiceError(err)) throw err;
    return { code: err.code, message: err.details, id: grpcErrorDetails(err, ErrorDetailSchema)[0]?.id };
  }
  throw new Error("expected the call to fail");
}

/**
 * Retries `fn` until it resolves: right after a dependency restarts, the first calls may still
 * meet connections that died with it. Bounded by attempts, never by a timing assertion.
 */
async function eventually<T>(fn: () => Promise<T>, attempts = 100): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function* uploadMessages(runId: string, path: string, data: Uint8Array): AsyncIterable<Upload> {
  yield { content: { case: "header", value: { runId, path } } };
  for (let offset = 0; offset < data.byteLength; offset += MiB) {
    yield { content: { case: "chunk", value: data.subarray(offset, offset + MiB) } };
  }
}

async function downloadBytes(runId: string, path: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const m of grpc.downloadArtifact({ runId, path }))
    if (m.content.case === "chunk") chunks.push(m.content.value);
  return Buffer.concat(chunks);
}

describe("registry server on PostgreSQL and S3", () => {
  it("stores metadata in PostgreSQL and artifacts in S3", async () => {
    const run = (await grpc.createRun({})).run?.info;
    expect(run?.artifactUri).toBe(`s3://${s3.bucket}/mlpipe/0/${run?.runId}/artifacts`);
    const data = randomBytes(6 * MiB);
    const uploaded = await grpc.uploadArtifact(uploadMessages(run?.runId ?? "", "weights.bin", data));
    expect(uploaded.file?.sha256).toBe(createHash("sha256").update(data).digest("hex"));
    expect((await downloadBytes(run?.runId ?? "", "weights.bin")).equals(data)).toBe(true);
  });

  it("answers UNAVAILABLE while PostgreSQL is down, stays up, and recovers", async () => {
    const runId = (await grpc.createRun({})).run?.info?.runId ?? "";
    await postgres.stop();
    try {
      const read = await failure(() => grpc.getRun({ runId }));
      expect(read).toMatchObject({ code: Code.Unavailable, id: "DATABASE_UNAVAILABLE" });
      expect(read.message).toContain("metadata database is unavailable");
      const write = await failure(() => grpc.logParam({ runId, key: "lr", value: "0.1" }));
      expect(write).toMatchObject({ code: Code.Unavailable, id: "DATABASE_UNAVAILABLE" });

      // Over Connect JSON on HTTP/1.1 too: 503 with the same code.
      const res = await fetch(`${server.url}/mlpipe.tracking.v1.TrackingService/GetRun`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ runId }),
      });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({
        code: "unavailable",
        message: expect.stringContaining("metadata database"),
      });

      // The server itself answers: validation needs no database.
      expect(await failure(() => grpc.getRun({ runId: "nope" }))).toMatchObject({ code: Code.InvalidArgument });
    } finally {
      await postgres.start();
    }
    await eventually(() => grpc.logParam({ runId, key: "lr", value: "0.1" }));
    expect((await grpc.getRun({ runId })).run?.data?.params).toEqual({ lr: "0.1" });
  });

  it("answers UNAVAILABLE to uploads while S3 is down, records nothing, and recovers", async () => {
    const runId = (await grpc.createRun({})).run?.info?.runId ?? "";
    const data = randomBytes(2 * MiB + 17);
    await s3.stop();
    try {
      const upload = await failure(() => grpc.uploadArtifact(uploadMessages(runId, "model/model.onnx", data)));
      expect(upload).toMatchObject({ code: Code.Unavailable, id: "BLOB_STORE_UNAVAILABLE" });
      expect(upload.message).toContain("artifact store is unavailable");
      // Metadata still answers, and the failed upload left no index entry.
      expect((await grpc.listArtifacts({ runId })).files).toEqual([]);
    } finally {
      await s3.start();
    }
    await eventually(() => grpc.uploadArtifact(uploadMessages(runId, "model/model.onnx", data)));
    expect((await grpc.listArtifacts({ runId, path: "model" })).files.map((f) => f.path)).toEqual(["model/model.onnx"]);
    expect((await downloadBytes(runId, "model/model.onnx")).equals(data)).toBe(true);
  });
});
