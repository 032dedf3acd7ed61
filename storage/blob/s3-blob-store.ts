import { PassThrough, Readable } from "node:stream";
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { S3Config } from "../../core/config.js";
import { commonErrors } from "../../core/errors/common-errors.js";
import { MlpipeError } from "../../core/errors/mlpipe-error.js";
import { blobPrefixAsDirectory, checkBlobKey } from "./blob-key.js";
import type { BlobInfo, BlobReader, BlobStore, PutOptions } from "./blob-store.js";
import { abortError, hashedCopy } from "./hashed-copy.js";

/** Options of {@link createS3BlobStore}. */
export interface S3BlobStoreOptions {
  /** `s3://bucket` or `s3://bucket/prefix`; keys are stored under `prefix/`. */
  readonly uri: string;
  /** Client settings (endpoint, region, credentials, path style, multipart part size). */
  readonly s3: S3Config;
}

/**
 * Parts a put may hold in memory at once besides the one being filled: memory per put stays
 * near `multipartPartSize * (uploadQueueSize + 1)` (24 MiB with the default 8 MiB parts).
 */
const uploadQueueSize = 2;

/** Most keys DeleteObjects accepts per request (the S3 limit); also ListObjectsV2's page size. */
const deleteBatch = 1000;

/**
 * Client timeouts: an unreachable endpoint fails within about maxAttempts * connectionTimeout
 * (~6 s) instead of hanging; a server that accepted the connection but stopped answering fails
 * after `socketTimeout` of silence. The socket timeout also bounds how long a reader of `get`
 * may pause between chunks.
 */
const clientTimeouts = { connectionTimeout: 2_000, socketTimeout: 30_000 } as const;
const maxAttempts = 3;

/**
 * Creates a blob store over an S3-compatible bucket (AWS S3, MinIO) with @aws-sdk/client-s3.
 *
 * A put streams through a SHA-256 hash into @aws-sdk/lib-storage's `Upload`: one PutObject for
 * bodies under the part size, otherwise a multipart upload (at most `uploadQueueSize` parts in
 * flight). The upload is committed (the PutObject sent, or CompleteMultipartUpload called) only
 * after the whole body was read and its hash checked, and S3 makes an object visible only at that
 * commit: readers see the previous object or the new one, and on a checksum mismatch, an abort or
 * an error nothing is committed and the multipart upload is aborted. So no temporary object or
 * server-side copy is needed, and objects may be as large as S3 allows (10,000 parts).
 * When `expectedSha256` is given it is also stored as object metadata `x-amz-meta-sha256`
 * (metadata must be sent before the content, so it cannot be stored when only known at the end).
 * A process killed mid-upload leaves an incomplete multipart upload: give the bucket a lifecycle
 * rule `AbortIncompleteMultipartUpload`.
 *
 * Network errors, timeouts and 5xx become BLOB_STORE_UNAVAILABLE (retrying may succeed); refused
 * credentials, denied access and a missing bucket become BLOB_STORE_ACCESS_DENIED (a configuration
 * error: retrying cannot succeed); both keep the cause for the log.
 */
export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const { bucket, prefix } = parseS3Uri(options.uri);
  const { s3 } = options;
  const config: S3ClientConfig = {
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    maxAttempts,
    requestHandler: clientTimeouts,
    // S3-compatible servers do not all decode aws-chunked bodies with trailing checksums, the
    // SDK's default since 3.729; integrity is checked here with SHA-256 anyway.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...(s3.endpointUrl === undefined ? {} : { endpoint: s3.endpointUrl }),
    ...(s3.accessKeyId === undefined || s3.secretAccessKey === undefined
      ? {}
      : { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } }),
  };
  const client = new S3Client(config);
  const objectKey = (key: string): string => {
    checkBlobKey(key);
    return prefix + key;
  };

  async function put(key: string, body: AsyncIterable<Uint8Array>, putOptions: PutOptions = {}): Promise<BlobInfo> {
    const Key = objectKey(key);
    const { expectedSha256 } = putOptions;
    const pass = new PassThrough({ highWaterMark: 1024 * 1024 });
    const upload = new Upload({
      client,
      queueSize: uploadQueueSize,
      partSize: s3.multipartPartSize,
      params: {
        Bucket: bucket,
        Key,
        Body: pass,
        ContentType: "application/octet-stream",
        ...(expectedSha256 === undefined ? {} : { Metadata: { sha256: expectedSha256 } }),
      },
    });
    // When the upload fails on its own (S3 down), stop reading the body.
    const uploadFailed = new AbortController();
    const signal =
      putOptions.signal === undefined ? uploadFailed.signal : AbortSignal.any([putOptions.signal, uploadFailed.signal]);
    const uploading = upload.done().catch((err: unknown) => {
      uploadFailed.abort();
      throw err;
    });
    // Set when reading failed first (mismatch, abort, body error): that is the error to report.
    let readError: { error: unknown } | undefined;
    const reading = hashedCopy(body, { expectedSha256, signal }, (chunk) => writeToStream(pass, chunk)).then(
      (info) => {
        pass.end();
        return info;
      },
      (err: unknown) => {
        // A write into a stream the failing upload already closed is the upload's failure, not
        // the reader's, whichever of the two is noticed first.
        if (!uploadFailed.signal.aborted && !(err instanceof UploadStreamClosedError)) readError = { error: err };
        // Destroying the stream makes the Upload fail before committing, then abort the multipart upload.
        pass.destroy(err instanceof Error ? err : new Error("body failed"));
        throw err;
      },
    );
    const [read, uploaded] = await Promise.allSettled([reading, uploading]);
    if (readError !== undefined) throw readError.error;
    if (uploaded.status === "rejected") throw translateS3Error(uploaded.reason);
    if (read.status === "rejected") throw read.reason;
    return read.value;
  }

  async function get(key: string, getOptions: { signal?: AbortSignal } = {}): Promise<BlobReader> {
    const Key = objectKey(key);
    try {
      const response = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key }),
        getOptions.signal === undefined ? {} : { abortSignal: getOptions.signal },
      );
      const { Body } = response;
      if (!(Body instanceof Readable)) {
        // The Node runtime of the SDK always answers with a Readable; anything else is a bug.
        throw new Error(`GetObject returned a ${typeof Body} body, expected a Node.js Readable`);
      }
      return { size: response.ContentLength ?? 0, body: translateReadErrors(Body, getOptions.signal) };
    } catch (err) {
      if (isNoSuchKey(err)) throw commonErrors.blobNotFound(key);
      if (getOptions.signal?.aborted === true) throw abortError(getOptions.signal);
      throw translateS3Error(err);
    }
  }

  async function stat(key: string): Promise<{ size: number } | undefined> {
    const Key = objectKey(key);
    try {
      const response = await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
      return { size: response.ContentLength ?? 0 };
    } catch (err) {
      if (isNoSuchKey(err)) return undefined;
      throw translateS3Error(err);
    }
  }

  async function deletePrefix(keyPrefix: string): Promise<void> {
    const Prefix = prefix + blobPrefixAsDirectory(keyPrefix);
    try {
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix,
            MaxKeys: deleteBatch,
            ...(ContinuationToken === undefined ? {} : { ContinuationToken }),
          }),
        );
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
        if (keys.length > 0) {
          const result = await client.send(
            new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }),
          );
          const failed = result.Errors ?? [];
          if (failed.length > 0) {
            throw new Error(
              `DeleteObjects failed for ${failed.length} key(s), first ${failed[0]?.Key}: ${failed[0]?.Code} ${failed[0]?.Message}`,
            );
          }
        }
        ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (ContinuationToken !== undefined);
    } catch (err) {
      throw translateS3Error(err);
    }
  }

  return {
    rootUri: prefix === "" ? `s3://${bucket}` : `s3://${bucket}/${prefix.slice(0, -1)}`,
    put,
    get,
    stat,
    deletePrefix,
    close: async () => client.destroy(),
  };
}

/**
 * Splits `s3://bucket[/prefix]` into the bucket and a key prefix that is empty or ends in `/`.
 * Throws INVALID_ARGUMENT (field "artifact_root") for anything else.
 */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(uri);
  const bucket = m?.[1];
  if (bucket === undefined) {
    throw commonErrors.invalidArgument("artifact_root", `"${uri}" is not an s3://bucket[/prefix] URI`);
  }
  const path = (m?.[2] ?? "").replace(/\/+$/, "");
  if (path !== "") blobPrefixAsDirectory(path);
  return { bucket, prefix: path === "" ? "" : `${path}/` };
}

/** A write into the upload's stream after the upload closed it (because it failed). */
class UploadStreamClosedError extends Error {
  override readonly name = "UploadStreamClosedError";
  constructor() {
    super("the upload stream was closed");
  }
}

/** Writes into the upload's stream, waiting while its buffer is full (backpressure). */
async function writeToStream(stream: PassThrough, chunk: Uint8Array): Promise<void> {
  if (stream.destroyed) throw new UploadStreamClosedError();
  if (stream.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      stream.off("drain", done);
      stream.off("close", closed);
      resolve();
    };
    const closed = (): void => {
      stream.off("drain", done);
      stream.off("close", closed);
      reject(new UploadStreamClosedError());
    };
    stream.on("drain", done);
    stream.on("close", closed);
  });
}

async function* translateReadErrors(
  body: Readable,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    for await (const chunk of body) {
      if (!(chunk instanceof Uint8Array)) throw new Error("GetObject body yielded a non-binary chunk");
      yield chunk;
    }
  } catch (err) {
    if (signal?.aborted === true) throw abortError(signal);
    throw translateS3Error(err);
  } finally {
    body.destroy();
  }
}

function isNoSuchKey(err: unknown): boolean {
  // GetObject says NoSuchKey; HeadObject has no body and the SDK names its 404 "NotFound".
  return err instanceof S3ServiceException && (err.name === "NoSuchKey" || err.name === "NotFound");
}

/**
 * S3 error names that mean the server's credentials, access or bucket are wrong: permanent, so
 * they must not be told as "unavailable, retry later".
 */
const refusalNames: ReadonlySet<string> = new Set([
  "AccessDenied",
  "AllAccessDisabled",
  "AccountProblem",
  "AuthorizationHeaderMalformed",
  "ExpiredToken",
  "InvalidAccessKeyId",
  "InvalidBucketName",
  "InvalidToken",
  "NoSuchBucket",
  "SignatureDoesNotMatch",
  // No credentials anywhere in the SDK's default chain.
  "CredentialsProviderError",
]);

/**
 * Failures of the S3 client become coded errors with the cause: refused credentials or access
 * and a missing bucket (by error name, or any 403 answer) BLOB_STORE_ACCESS_DENIED; everything
 * else (5xx, network and timeout errors) BLOB_STORE_UNAVAILABLE. MlpipeErrors and programming
 * errors (TypeError, RangeError, ...) pass through unchanged.
 */
function translateS3Error(err: unknown): unknown {
  if (err instanceof MlpipeError) return err;
  if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError) return err;
  if (err instanceof Error) {
    const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
    if (refusalNames.has(err.name) || status === 403) {
      return commonErrors.blobStoreAccessDenied(status === undefined ? err.name : `${err.name}, HTTP ${status}`, err);
    }
  }
  return commonErrors.blobStoreUnavailable(err);
}
