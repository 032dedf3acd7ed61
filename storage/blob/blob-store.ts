/**
 * Storage of artifact bytes, behind one small interface with two implementations: a local
 * directory (the default) and an S3-compatible bucket (AWS S3, MinIO). Keys are relative,
 * `/`-separated, already validated by the caller (no `..`, no empty segment, no leading `/`).
 */
export interface BlobStore {
  /** URI of the root, e.g. `file:///srv/mlpipe/artifacts` or `s3://bucket/prefix`. */
  readonly rootUri: string;
  /**
   * Writes `body` at `key`, streaming with bounded memory, and returns its size and SHA-256.
   * Atomic: readers see the previous content or the new one, never a partial file. With
   * `expectedSha256`, a mismatch stores nothing and throws TRACKING_ARTIFACT_CHECKSUM_MISMATCH.
   * An unreachable backend throws BLOB_STORE_UNAVAILABLE.
   */
  put(key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<BlobInfo>;
  /** Streams the content at `key`. Throws BLOB_NOT_FOUND when there is none. */
  get(key: string, options?: { signal?: AbortSignal }): Promise<BlobReader>;
  /** Size of the content at `key`, or undefined when there is none. */
  stat(key: string): Promise<{ size: number } | undefined>;
  /** Removes everything under `prefix` (a directory-like key, e.g. "3/"). Missing is fine. */
  deletePrefix(prefix: string): Promise<void>;
  /** Releases clients and sockets. */
  close(): Promise<void>;
}

/** Options of {@link BlobStore.put}. */
export interface PutOptions {
  /** Lower-case hex SHA-256 the content must have. */
  readonly expectedSha256?: string | undefined;
  /** Aborts the write; nothing is stored. */
  readonly signal?: AbortSignal | undefined;
}

/** What was stored. */
export interface BlobInfo {
  /** Bytes. */
  readonly size: number;
  /** Lower-case hex SHA-256. */
  readonly sha256: string;
}

/** An open blob: its size and a stream of its content. */
export interface BlobReader {
  readonly size: number;
  readonly body: AsyncIterable<Uint8Array>;
}
