import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../../core/errors/code.js";
import { MlpipeError } from "../../core/errors/mlpipe-error.js";
import { startS3Server, type TestS3 } from "../../test/support/s3-server.js";
import type { BlobStore } from "./blob-store.js";
import { createLocalBlobStore } from "./local-blob-store.js";
import { createS3BlobStore } from "./s3-blob-store.js";

const MiB = 1024 * 1024;

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

async function* chunksOf(data: Uint8Array, chunkBytes = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < data.byteLength; offset += chunkBytes) {
    yield data.subarray(offset, Math.min(offset + chunkBytes, data.byteLength));
  }
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of body) parts.push(chunk);
  return Buffer.concat(parts);
}

async function content(store: BlobStore, key: string): Promise<Buffer> {
  const reader = await store.get(key);
  const data = await readAll(reader.body);
  expect(reader.size).toBe(data.byteLength);
  return data;
}

/**
 * A body that yields `data` up to `pauseAt` bytes, then waits until `release()` before yielding
 * the rest; `paused` resolves once it is waiting. `release(error)` makes it throw instead.
 */
function gatedBody(data: Uint8Array, pauseAt: number) {
  let release: (error?: Error) => void = () => {};
  const gate = new Promise<Error | undefined>((resolve) => {
    release = resolve;
  });
  let markPaused: () => void = () => {};
  const paused = new Promise<void>((resolve) => {
    markPaused = resolve;
  });
  async function* body(): AsyncGenerator<Uint8Array> {
    yield* chunksOf(data.subarray(0, pauseAt));
    markPaused();
    const error = await gate;
    if (error !== undefined) throw error;
    yield* chunksOf(data.subarray(pauseAt));
  }
  return { body: body(), paused, release };
}

async function expectMlpipeError(promise: Promise<unknown>, id: string, code: Code): Promise<MlpipeError> {
  const err: unknown = await promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MlpipeError);
  expect(err).toMatchObject({ id, code });
  return err as MlpipeError;
}

interface Harness {
  readonly name: string;
  /** Makes an empty store. */
  create(): Promise<BlobStore>;
  /** Requests the S3 server saw since the last call, for the S3 store. */
  takeRequests?: () => Promise<string[]>;
  cleanup(): Promise<void>;
}

function localHarness(): Harness {
  const dirs: string[] = [];
  return {
    name: "local",
    async create() {
      const dir = await mkdtemp(join(tmpdir(), "mlpipe-blob-"));
      dirs.push(dir);
      return createLocalBlobStore(join(dir, "artifacts"));
    },
    async cleanup() {
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    },
  };
}

function s3Harness(): Harness & { server(): TestS3 } {
  let s3: TestS3 | undefined;
  let seen = 0;
  let stores = 0;
  const server = (): TestS3 => {
    if (s3 === undefined) throw new Error("S3 server not started");
    return s3;
  };
  return {
    name: "s3",
    server,
    async create() {
      s3 ??= await startS3Server();
      stores += 1;
      return createS3BlobStore({ uri: `s3://${s3.bucket}/store-${stores}`, s3: s3.s3Config });
    },
    async takeRequests() {
      const all = await server().requests();
      const fresh = all.slice(seen);
      seen = all.length;
      return fresh;
    },
    async cleanup() {
      await s3?.dispose();
    },
  };
}

const s3 = s3Harness();
const harnesses: Harness[] = [localHarness(), s3];

afterAll(async () => {
  for (const h of harnesses) await h.cleanup();
});

describe.each(harnesses)("$name blob store", (harness) => {
  let store: BlobStore;

  beforeAll(async () => {
    store = await harness.create();
    return () => store.close();
  });

  it("round-trips content with its size and sha256", async () => {
    const data = randomBytes(300 * 1024 + 7);
    const info = await store.put("1/run/model.onnx", chunksOf(data, 100 * 1024));
    expect(info).toEqual({ size: data.byteLength, sha256: sha256(data) });
    expect((await content(store, "1/run/model.onnx")).equals(data)).toBe(true);
    expect(await store.stat("1/run/model.onnx")).toEqual({ size: data.byteLength });
  });

  it("stores an empty file", async () => {
    const info = await store.put("1/run/empty.txt", chunksOf(new Uint8Array(0)), {
      expectedSha256: sha256(new Uint8Array(0)),
    });
    expect(info).toEqual({ size: 0, sha256: sha256(new Uint8Array(0)) });
    expect((await content(store, "1/run/empty.txt")).byteLength).toBe(0);
    expect(await store.stat("1/run/empty.txt")).toEqual({ size: 0 });
  });

  it("streams a 20 MiB file in 64 KiB chunks, multipart on S3", async () => {
    const data = randomBytes(20 * MiB);
    await harness.takeRequests?.();
    const info = await store.put("2/big.bin", chunksOf(data), { expectedSha256: sha256(data) });
    expect(info).toEqual({ size: data.byteLength, sha256: sha256(data) });
    if (harness.takeRequests !== undefined) {
      const requests = await harness.takeRequests();
      // 20 MiB in 5 MiB parts: 4 parts, then one CompleteMultipartUpload.
      expect(requests.filter((r) => /^PUT .*[?&]partNumber=\d+/.test(r))).toHaveLength(4);
      expect(requests.filter((r) => /^POST .*[?&]uploadId=/.test(r))).toHaveLength(1);
    }
    const reader = await store.get("2/big.bin");
    expect(reader.size).toBe(data.byteLength);
    const hash = createHash("sha256");
    for await (const chunk of reader.body) hash.update(chunk);
    expect(hash.digest("hex")).toBe(sha256(data));
  });

  it("overwrites atomically: while a put is in progress readers see the previous content", async () => {
    const before = randomBytes(64 * 1024);
    const after = randomBytes(7 * MiB);
    await store.put("3/weights.bin", chunksOf(before));
    // Past the first 5 MiB part, so the S3 store has already uploaded a part.
    const gated = gatedBody(after, 6 * MiB);
    const putting = store.put("3/weights.bin", gated.body);
    await gated.paused;
    expect((await content(store, "3/weights.bin")).equals(before)).toBe(true);
    expect(await store.stat("3/weights.bin")).toEqual({ size: before.byteLength });
    gated.release();
    expect(await putting).toEqual({ size: after.byteLength, sha256: sha256(after) });
    expect((await content(store, "3/weights.bin")).equals(after)).toBe(true);
  });

  it.each([
    ["small", 100 * 1024],
    ["multipart", 11 * MiB],
  ])("a checksum mismatch (%s body) stores nothing and keeps the previous content", async (_kind, size) => {
    const previous = randomBytes(1000);
    await store.put("4/data.csv", chunksOf(previous));
    const data = randomBytes(size);
    await harness.takeRequests?.();
    const err = await expectMlpipeError(
      store.put("4/data.csv", chunksOf(data), { expectedSha256: sha256(previous) }),
      "TRACKING_ARTIFACT_CHECKSUM_MISMATCH",
      Code.DataLoss,
    );
    expect(err.message).toContain(sha256(data));
    expect((await content(store, "4/data.csv")).equals(previous)).toBe(true);
    await expectMlpipeError(
      store.put("4/new.csv", chunksOf(data), { expectedSha256: "0".repeat(64) }),
      "TRACKING_ARTIFACT_CHECKSUM_MISMATCH",
      Code.DataLoss,
    );
    expect(await store.stat("4/new.csv")).toBeUndefined();
    if (harness.takeRequests !== undefined && size > 5 * MiB) {
      const requests = await harness.takeRequests();
      expect(requests.filter((r) => /^PUT .*[?&]partNumber=/.test(r)).length).toBeGreaterThan(0);
      expect(requests.filter((r) => /^POST .*[?&]uploadId=/.test(r))).toHaveLength(0);
      expect(requests.filter((r) => /^DELETE .*[?&]uploadId=/.test(r))).toHaveLength(2);
    }
  });

  it("refuses a malformed expected sha256 before storing anything", async () => {
    await expectMlpipeError(
      store.put("4/bad-hash.txt", chunksOf(randomBytes(10)), { expectedSha256: "ABC" }),
      "INVALID_ARGUMENT",
      Code.InvalidArgument,
    );
    expect(await store.stat("4/bad-hash.txt")).toBeUndefined();
  });

  it.each([
    ["small", 100 * 1024],
    ["multipart", 7 * MiB],
  ])("an aborted put (%s body) stores nothing, even while the body waits for data", async (_kind, size) => {
    const previous = randomBytes(500);
    await store.put("5/a.bin", chunksOf(previous));
    const data = randomBytes(size);
    const gated = gatedBody(data, size - 1024);
    const controller = new AbortController();
    const putting = store.put("5/a.bin", gated.body, { signal: controller.signal });
    await gated.paused;
    controller.abort();
    await expectMlpipeError(putting, "CANCELED", Code.Canceled);
    gated.release();
    expect((await content(store, "5/a.bin")).equals(previous)).toBe(true);
  });

  it("a body that throws stores nothing and the put fails with the body's error", async () => {
    const previous = randomBytes(500);
    await store.put("5/b.bin", chunksOf(previous));
    const gated = gatedBody(randomBytes(6 * MiB), 5 * MiB + 1);
    const putting = store.put("5/b.bin", gated.body);
    await gated.paused;
    const failure = new Error("client went away");
    gated.release(failure);
    await expect(putting).rejects.toBe(failure);
    expect((await content(store, "5/b.bin")).equals(previous)).toBe(true);
    await expect(
      store.put("5/c.bin", gatedBody(randomBytes(10), 0).body, { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({
      id: "CANCELED",
    });
    expect(await store.stat("5/c.bin")).toBeUndefined();
  });

  it("reports a missing key as BLOB_NOT_FOUND (NotFound) and stat as undefined", async () => {
    const err = await expectMlpipeError(store.get("6/missing.txt"), "BLOB_NOT_FOUND", Code.NotFound);
    expect(err.message).toContain("6/missing.txt");
    expect(await store.stat("6/missing.txt")).toBeUndefined();
    await store.put("6/dir/file.txt", chunksOf(Buffer.from("x")));
    await expectMlpipeError(store.get("6/dir"), "BLOB_NOT_FOUND", Code.NotFound);
    expect(await store.stat("6/dir")).toBeUndefined();
  });

  it("stops a download when its signal aborts, and when the reader stops early", async () => {
    const data = randomBytes(3 * MiB);
    await store.put("6/download.bin", chunksOf(data));
    const controller = new AbortController();
    const reader = await store.get("6/download.bin", { signal: controller.signal });
    const read = async (): Promise<number> => {
      let bytes = 0;
      for await (const chunk of reader.body) {
        bytes += chunk.byteLength;
        controller.abort();
      }
      return bytes;
    };
    await expectMlpipeError(read(), "CANCELED", Code.Canceled);
    const early = await store.get("6/download.bin");
    for await (const chunk of early.body) {
      expect(chunk.byteLength).toBeGreaterThan(0);
      break;
    }
    expect((await content(store, "6/download.bin")).equals(data)).toBe(true);
  });

  it("deletes everything under a directory-like prefix, and nothing beside it", async () => {
    for (const key of ["7/a/1.txt", "7/a/b/2.txt", "7/ab/3.txt", "7/a.txt"]) {
      await store.put(key, chunksOf(Buffer.from(key)));
    }
    await store.deletePrefix("7/a/");
    expect(await store.stat("7/a/1.txt")).toBeUndefined();
    expect(await store.stat("7/a/b/2.txt")).toBeUndefined();
    expect((await content(store, "7/ab/3.txt")).toString()).toBe("7/ab/3.txt");
    expect((await content(store, "7/a.txt")).toString()).toBe("7/a.txt");
    // Without the trailing slash it is still a directory: "7/ab" is not under "7/a".
    await store.put("7/a/4.txt", chunksOf(Buffer.from("4")));
    await store.deletePrefix("7/a");
    expect(await store.stat("7/a/4.txt")).toBeUndefined();
    expect(await store.stat("7/ab/3.txt")).toEqual({ size: 10 });
    await store.deletePrefix("7/never-existed/");
    await expectMlpipeError(store.deletePrefix(""), "INVALID_ARGUMENT", Code.InvalidArgument);
  });

  it.each(["../escape.txt", "/abs.txt", "a//b.txt", "a/./b.txt", "a/../../b.txt", "a\\b.txt"])(
    "refuses the key %j",
    async (key) => {
      await expectMlpipeError(store.put(key, chunksOf(Buffer.from("x"))), "INVALID_ARGUMENT", Code.InvalidArgument);
      await expectMlpipeError(store.get(key), "INVALID_ARGUMENT", Code.InvalidArgument);
      await expectMlpipeError(store.stat(key), "INVALID_ARGUMENT", Code.InvalidArgument);
    },
  );
});

describe("local blob store specifics", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mlpipe-blob-"));
    return () => rm(dir, { recursive: true, force: true });
  });

  it("has the file:// URL of its absolute directory as root URI", async () => {
    const store = await createLocalBlobStore(join(dir, "uri", "..", "uri-root"));
    expect(store.rootUri).toBe(pathToFileURL(join(dir, "uri-root")).href);
  });

  it("refuses keys in its temporary directory and keys that collide with a file or directory", async () => {
    const root = join(dir, "collide");
    const store = await createLocalBlobStore(root);
    await expectMlpipeError(store.put(".tmp/x", chunksOf(Buffer.from("x"))), "INVALID_ARGUMENT", Code.InvalidArgument);
    await expectMlpipeError(store.deletePrefix(".tmp"), "INVALID_ARGUMENT", Code.InvalidArgument);
    await store.put("f", chunksOf(Buffer.from("file")));
    await store.put("d/x", chunksOf(Buffer.from("x")));
    await expectMlpipeError(store.put("f/g", chunksOf(Buffer.from("g"))), "INVALID_ARGUMENT", Code.InvalidArgument);
    await expectMlpipeError(store.put("d", chunksOf(Buffer.from("d"))), "INVALID_ARGUMENT", Code.InvalidArgument);
    expect((await content(store, "f")).toString()).toBe("file");
    expect(await readdir(join(root, ".tmp"))).toEqual([]);
  });

  it("fails with BLOB_STORE_UNAVAILABLE when the filesystem refuses", async () => {
    const file = join(dir, "a-file");
    await writeFile(file, "not a directory");
    await expectMlpipeError(createLocalBlobStore(join(file, "root")), "BLOB_STORE_UNAVAILABLE", Code.Unavailable);
    const root = join(dir, "broken");
    const store = await createLocalBlobStore(root);
    await rm(join(root, ".tmp"), { recursive: true });
    await writeFile(join(root, ".tmp"), "in the way");
    const err = await expectMlpipeError(
      store.put("k.txt", chunksOf(Buffer.from("x"))),
      "BLOB_STORE_UNAVAILABLE",
      Code.Unavailable,
    );
    expect(err.cause).toMatchObject({ code: "EEXIST" });
    expect(await store.stat("k.txt")).toBeUndefined();
  });

  it("removes temporary files left by a crash more than a day ago, and only those", async () => {
    const root = join(dir, "stale");
    await mkdir(join(root, ".tmp"), { recursive: true });
    await writeFile(join(root, ".tmp", "old"), "old");
    await writeFile(join(root, ".tmp", "recent"), "recent");
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    await utimes(join(root, ".tmp", "old"), twoDaysAgo, twoDaysAgo);
    await createLocalBlobStore(root);
    expect(await readdir(join(root, ".tmp"))).toEqual(["recent"]);
  });

  it("leaves no temporary file after failed puts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mlpipe-blob-"));
    try {
      const store = await createLocalBlobStore(dir);
      await expect(
        store.put("k.bin", chunksOf(randomBytes(1000)), { expectedSha256: "0".repeat(64) }),
      ).rejects.toThrow();
      const gated = gatedBody(randomBytes(1000), 500);
      const putting = store.put("k.bin", gated.body);
      await gated.paused;
      gated.release(new Error("boom"));
      await expect(putting).rejects.toThrow("boom");
      expect(await readdir(join(dir, ".tmp"))).toEqual([]);
      expect(await readdir(dir)).toEqual([".tmp"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keeps serving the previous content to a reader that opened it before an overwrite", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mlpipe-blob-"));
    try {
      const store = await createLocalBlobStore(dir);
      const before = randomBytes(2 * MiB);
      await store.put("m.bin", chunksOf(before));
      const reader = await store.get("m.bin");
      await store.put("m.bin", chunksOf(randomBytes(MiB)));
      expect((await readAll(reader.body)).equals(before)).toBe(true);
      expect(await store.stat("m.bin")).toEqual({ size: MiB });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("S3 blob store while the server is down", () => {
  it("fails with BLOB_STORE_UNAVAILABLE, nothing stored, and recovers when the server is back", async () => {
    const store = await s3.create();
    const server = s3.server();
    try {
      await store.put("8/kept.txt", chunksOf(Buffer.from("kept")));
      await server.stop();
      const unavailable = (p: Promise<unknown>) => expectMlpipeError(p, "BLOB_STORE_UNAVAILABLE", Code.Unavailable);
      const err = await unavailable(store.put("8/new.txt", chunksOf(randomBytes(1000))));
      expect(err.cause).toBeDefined();
      await unavailable(store.put("8/new-big.bin", chunksOf(randomBytes(6 * MiB))));
      await unavailable(store.get("8/kept.txt"));
      await unavailable(store.stat("8/kept.txt"));
      await unavailable(store.deletePrefix("8/"));
      await server.start();
      // Down in the middle of a multipart upload, after its first part.
      const gated = gatedBody(randomBytes(7 * MiB), 6 * MiB);
      const putting = store.put("8/interrupted.bin", gated.body);
      await gated.paused;
      await server.stop();
      gated.release();
      await unavailable(putting);
      await server.start();
      expect(await store.stat("8/interrupted.bin")).toBeUndefined();
      expect((await content(store, "8/kept.txt")).toString()).toBe("kept");
      expect(await store.stat("8/new.txt")).toBeUndefined();
      expect(await store.stat("8/new-big.bin")).toBeUndefined();
      await store.put("8/new.txt", chunksOf(Buffer.from("new")));
      expect((await content(store, "8/new.txt")).toString()).toBe("new");
    } finally {
      await server.start();
      await store.close();
    }
  });

  it("answers BLOB_STORE_UNAVAILABLE every time the server dies while a body is flowing (issue 13, defect 6)", async () => {
    const store = await s3.create();
    const server = s3.server();
    try {
      // Killed after 0.5, 3, 5.5 and 8 MiB of a 12 MiB body sent in 64 KiB chunks: within the
      // first part, at the first part's upload, and in later ones.
      for (const [i, killAt] of [0.5, 3, 5.5, 8].entries()) {
        await server.start();
        let sent = 0;
        let killed: Promise<void> | undefined;
        async function* flowing(): AsyncGenerator<Uint8Array> {
          for await (const chunk of chunksOf(randomBytes(12 * MiB))) {
            if (killed === undefined && sent >= killAt * MiB) killed = server.stop();
            sent += chunk.byteLength;
            yield chunk;
            // Let the upload's sockets make progress between chunks, as a network client would.
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
        await expectMlpipeError(store.put(`9/flowing-${i}.bin`, flowing()), "BLOB_STORE_UNAVAILABLE", Code.Unavailable);
        await killed;
      }
    } finally {
      await server.start();
      await store.close();
    }
  });

  it("answers a permanent BLOB_STORE_ACCESS_DENIED for wrong credentials or a missing bucket (issue 13, defect 6)", async () => {
    await (await s3.create()).close();
    const server = s3.server();
    const noBucket = createS3BlobStore({ uri: "s3://no-such-bucket", s3: server.s3Config });
    const badKeys = createS3BlobStore({
      uri: `s3://${server.bucket}`,
      s3: { ...server.s3Config, accessKeyId: "WRONG", secretAccessKey: "WRONG" },
    });
    try {
      for (const store of [noBucket, badKeys]) {
        const denied = (p: Promise<unknown>) =>
          expectMlpipeError(p, "BLOB_STORE_ACCESS_DENIED", Code.FailedPrecondition);
        const err = await denied(store.put("x.txt", chunksOf(Buffer.from("x"))));
        expect(err.message).not.toContain("retry");
        expect(err.cause).toBeDefined();
        await denied(store.put("big.bin", chunksOf(randomBytes(6 * MiB))));
        await denied(store.get("x.txt"));
        await denied(store.deletePrefix("x/"));
      }
    } finally {
      await noBucket.close();
      await badKeys.close();
    }
  });
});

describe("S3 blob store specifics", () => {
  function rawClient(server: TestS3): S3Client {
    const { s3Config: c } = server;
    return new S3Client({
      region: c.region,
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  it("stores under the URI's prefix, with the expected sha256 as metadata", async () => {
    const store = await s3.create();
    const server = s3.server();
    const client = rawClient(server);
    try {
      const prefix = store.rootUri.slice(`s3://${server.bucket}/`.length);
      expect(store.rootUri).toMatch(new RegExp(`^s3://${server.bucket}/store-\\d+$`));
      const data = Buffer.from("weights");
      await store.put("9/w.bin", chunksOf(data), { expectedSha256: sha256(data) });
      const head = await client.send(new HeadObjectCommand({ Bucket: server.bucket, Key: `${prefix}/9/w.bin` }));
      expect(head.Metadata).toEqual({ sha256: sha256(data) });
      expect(head.ContentLength).toBe(data.byteLength);
    } finally {
      client.destroy();
      await store.close();
    }
  });

  it("deletes a prefix of more than one page (1000 keys)", async () => {
    const store = await s3.create();
    const server = s3.server();
    const client = rawClient(server);
    try {
      const prefix = store.rootUri.slice(`s3://${server.bucket}/`.length);
      const keys = Array.from({ length: 1005 }, (_, i) => `${prefix}/10/many/${i}.txt`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(
          keys
            .slice(i, i + 50)
            .map((Key) => client.send(new PutObjectCommand({ Bucket: server.bucket, Key, Body: "x" }))),
        );
      }
      await store.put("10/other.txt", chunksOf(Buffer.from("o")));
      expect(await store.stat("10/many/1004.txt")).toEqual({ size: 1 });
      await store.deletePrefix("10/many");
      expect(await store.stat("10/many/0.txt")).toBeUndefined();
      expect(await store.stat("10/many/1004.txt")).toBeUndefined();
      expect(await store.stat("10/other.txt")).toEqual({ size: 1 });
    } finally {
      client.destroy();
      await store.close();
    }
  });

  it("s3rver supports CopyObject with metadata (for other users of the harness)", async () => {
    const server = s3.server();
    const client = rawClient(server);
    try {
      await client.send(
        new PutObjectCommand({ Bucket: server.bucket, Key: "copy/src", Body: "abc", Metadata: { sha256: "s" } }),
      );
      await client.send(
        new CopyObjectCommand({ Bucket: server.bucket, Key: "copy/dst", CopySource: `${server.bucket}/copy/src` }),
      );
      const copied = await client.send(new GetObjectCommand({ Bucket: server.bucket, Key: "copy/dst" }));
      expect(await copied.Body?.transformToString()).toBe("abc");
      expect(copied.Metadata).toEqual({ sha256: "s" });
    } finally {
      client.destroy();
    }
  });
});
