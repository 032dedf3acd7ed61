import { createHash } from "node:crypto";
import { commonErrors } from "../../core/errors/common-errors.js";
import { MlpipeError } from "../../core/errors/mlpipe-error.js";
import { trackingErrors } from "../../core/errors/tracking-errors.js";
import type { BlobInfo, PutOptions } from "./blob-store.js";

const sha256Hex = /^[0-9a-f]{64}$/;

/**
 * The core of every `put`: reads `body` chunk by chunk, hashes it (SHA-256) and counts it while
 * handing each chunk to `write` (awaited, so a slow backend slows the reader: memory stays at
 * about one chunk). Resolves with the size and hash once the body has ended and the hash
 * matches `expectedSha256`; the store commits only after that.
 *
 * Rejects, and the store must then discard what `write` received, with:
 * - INVALID_ARGUMENT (field "expected_sha256") before reading, for a malformed expected hash;
 * - TRACKING_ARTIFACT_CHECKSUM_MISMATCH when the content hashes differently;
 * - CANCELED (or the signal's reason when it is an MlpipeError, e.g. DEADLINE_EXCEEDED) as soon
 *   as `signal` aborts, even while the body is waiting for data;
 * - the body's own error, unchanged, when its iterator throws;
 * - `write`'s error, unchanged.
 */
export async function hashedCopy(
  body: AsyncIterable<Uint8Array>,
  options: PutOptions,
  write: (chunk: Uint8Array) => Promise<void>,
): Promise<BlobInfo> {
  const { expectedSha256, signal } = options;
  if (expectedSha256 !== undefined && !sha256Hex.test(expectedSha256)) {
    throw commonErrors.invalidArgument("expected_sha256", "must be 64 lower-case hex digits");
  }
  if (signal?.aborted === true) throw abortError(signal);
  const abort = abortedPromise(signal);
  const iterator = body[Symbol.asyncIterator]();
  const hash = createHash("sha256");
  let size = 0;
  let finished = false;
  try {
    for (;;) {
      const next = iterator.next();
      const result = abort === undefined ? await next : await raceAbort(next, abort.promise);
      if (result.done === true) {
        finished = true;
        break;
      }
      const chunk = result.value;
      hash.update(chunk);
      size += chunk.byteLength;
      await (abort === undefined ? write(chunk) : raceAbort(write(chunk), abort.promise));
    }
  } catch (err) {
    if (!finished) closeQuietly(iterator);
    throw err;
  } finally {
    abort?.dispose();
  }
  const sha256 = hash.digest("hex");
  if (expectedSha256 !== undefined && sha256 !== expectedSha256) {
    throw trackingErrors.artifactChecksumMismatch(expectedSha256, sha256);
  }
  return { size, sha256 };
}

/** The error a put aborted by `signal` fails with. */
export function abortError(signal: AbortSignal): MlpipeError {
  return signal.reason instanceof MlpipeError ? signal.reason : commonErrors.canceled();
}

interface AbortWatch {
  readonly promise: Promise<never>;
  dispose(): void;
}

function abortedPromise(signal: AbortSignal | undefined): AbortWatch | undefined {
  if (signal === undefined) return undefined;
  let onAbort = (): void => {};
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  // Nobody may be awaiting it when it rejects (e.g. between two chunks).
  promise.catch(() => {});
  return { promise, dispose: () => signal.removeEventListener("abort", onAbort) };
}

function raceAbort<T>(work: Promise<T>, aborted: Promise<never>): Promise<T> {
  // The losing promise may reject later; that must not become an unhandled rejection.
  work.catch(() => {});
  return Promise.race([work, aborted]);
}

function closeQuietly(iterator: AsyncIterator<Uint8Array>): void {
  // Not awaited: an iterator stuck waiting for data would make us wait with it.
  iterator.return?.().catch(() => {});
}
