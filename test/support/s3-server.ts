import { type ChildProcess, fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { S3Config } from "../../core/config.js";

/**
 * A real S3-protocol server (s3rver, https://github.com/jamhall/s3rver) for tests, in a child
 * process on 127.0.0.1 with its data in a temporary directory and a bucket created. `stop()`
 * kills the process (open connections drop, new ones are refused) and `start()` starts a new one
 * on the same port with the same data, to test an S3 that goes down and comes back.
 *
 * Verified with @aws-sdk/client-s3 v3 and @aws-sdk/lib-storage: PutObject, GetObject,
 * HeadObject, multipart upload (create, parts, complete, abort), CopyObject, DeleteObjects,
 * ListObjectsV2 with continuation, `x-amz-meta-*` metadata. Limits of s3rver: no UploadPartCopy
 * (multipart copy) and no ListMultipartUploads; `x-amz-checksum-*` headers are ignored and
 * aws-chunked bodies are not decoded, so clients must set `requestChecksumCalculation:
 * "WHEN_REQUIRED"` (the SDK's default since 3.729 sends streaming bodies aws-chunked); an
 * overwrite is not atomic on its side (it rewrites the file in place). Its continuation tokens
 * use DES, hence the child process with `--openssl-legacy-provider`.
 */
export interface TestS3 {
  /** e.g. http://127.0.0.1:41234 (the same across stop/start). */
  readonly endpoint: string;
  /** The bucket created at start. */
  readonly bucket: string;
  /** Settings for a client of this server: path-style, dummy keys S3RVER/S3RVER, 5 MiB parts. */
  readonly s3Config: S3Config;
  /**
   * `METHOD /path?query` of every request received so far, oldest first, including every request
   * whose response the caller has already seen.
   */
  requests(): Promise<readonly string[]>;
  /** Stops the server process; data is kept. Idempotent. */
  stop(): Promise<void>;
  /** Starts the server again on the same port with the same data. Idempotent. */
  start(): Promise<void>;
  /** Stops the server and deletes its data directory. */
  dispose(): Promise<void>;
}

const entry = join(import.meta.dirname, "s3rver-process.ts");

/** Starts a {@link TestS3} on a free port. Call `dispose()` when done. */
export async function startS3Server(options: { bucket?: string } = {}): Promise<TestS3> {
  const bucket = options.bucket ?? "mlpipe-test";
  const directory = await mkdtemp(join(tmpdir(), "mlpipe-s3rver-"));
  const log: string[] = [];
  const syncs = new Map<number, () => void>();
  let nextSync = 0;
  let port = 0;
  let child: ChildProcess | undefined;

  function onMessage(message: unknown): void {
    if (typeof message !== "object" || message === null || !("type" in message)) return;
    if (message.type === "request" && "line" in message && typeof message.line === "string") log.push(message.line);
    if (message.type === "synced" && "id" in message && typeof message.id === "number") {
      syncs.get(message.id)?.();
      syncs.delete(message.id);
    }
  }

  async function start(): Promise<void> {
    if (child !== undefined) return;
    const proc = fork(entry, [String(port), directory, bucket], {
      execArgv: ["--openssl-legacy-provider", "--import", import.meta.resolve("tsx")],
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    proc.on("message", onMessage);
    proc.on("exit", () => {
      // Nothing more will come from this process: release anyone waiting for a sync.
      for (const release of syncs.values()) release();
      syncs.clear();
    });
    port = await new Promise<number>((resolve, reject) => {
      proc.on("message", (message: unknown) => {
        if (typeof message !== "object" || message === null || !("type" in message)) return;
        if (message.type === "listening" && "port" in message && typeof message.port === "number") {
          resolve(message.port);
        }
        if (message.type === "failed") reject(new Error(`s3rver failed to start: ${JSON.stringify(message)}`));
      });
      proc.on("exit", (code) => reject(new Error(`s3rver exited with code ${code} before listening`)));
      proc.on("error", reject);
    });
    child = proc;
  }

  async function stop(): Promise<void> {
    const proc = child;
    if (proc === undefined) return;
    child = undefined;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGKILL");
    await exited;
  }

  async function requests(): Promise<readonly string[]> {
    const proc = child;
    if (proc !== undefined) {
      const id = nextSync++;
      await new Promise<void>((resolve) => {
        syncs.set(id, resolve);
        proc.send({ type: "sync", id });
      });
    }
    return [...log];
  }

  try {
    await start();
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    s3Config: {
      endpointUrl: endpoint,
      region: "us-east-1",
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
      forcePathStyle: true,
      multipartPartSize: 5 * 1024 * 1024,
    },
    requests,
    stop,
    start,
    dispose: async () => {
      await stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
