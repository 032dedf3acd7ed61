/**
 * What CreateModelVersion does before anything is written: find the artifact a source names, read
 * it (bounded), hash it, and load it with onnxruntime. The outcome is either the bytes with their
 * size, SHA-256 and signature, or a reason the version fails registration. Infrastructure
 * failures (database or artifact store unavailable) are thrown instead: they say nothing about the
 * artifact, and nothing is registered.
 */
import { createHash } from "node:crypto";
import { commonErrors } from "../core/errors/common-errors.js";
import type { ModelSignature } from "../gen/mlpipe/registry/v1/registry_pb.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import type { RunArtifactLookup } from "../tracking/run-artifact-lookup.js";
import { checkOnnxModel } from "./onnx-model-check.js";
import { blobKeyOfUri, joinUri, type RegistrationSource } from "./registration-source.js";

/** A registrable artifact, read into memory. */
export interface CheckedArtifact {
  readonly ok: true;
  readonly bytes: Uint8Array;
  /** Bytes. */
  readonly size: number;
  /** Lower-case hex SHA-256. */
  readonly sha256: string;
  readonly signature: ModelSignature;
}

/** Why a source cannot be registered: the version's status_message. */
export interface RejectedArtifact {
  readonly ok: false;
  readonly reason: string;
}

/** What {@link checkArtifact} needs. */
export interface ArtifactCheckDeps {
  /** Tracking's lookup of a run's artifact file (`runs:/` sources). */
  readonly runArtifacts: RunArtifactLookup;
  readonly blobs: Pick<BlobStore, "rootUri" | "get">;
  /** Largest artifact read, in bytes; a larger one fails registration. */
  readonly maxArtifactBytes: number;
}

/** Finds, reads, hashes and loads the artifact of `source`. */
export async function checkArtifact(
  deps: ArtifactCheckDeps,
  source: RegistrationSource,
  signal?: AbortSignal,
): Promise<CheckedArtifact | RejectedArtifact> {
  let key: string;
  let expectedSha256: string | undefined;
  if (source.kind === "run") {
    const run = await deps.runArtifacts.findRunArtifact(source.runId, source.path);
    if (run === undefined) return { ok: false, reason: `run ${source.runId} does not exist` };
    if (run.file === undefined) {
      return { ok: false, reason: `run ${source.runId} has no artifact file "${source.path}"` };
    }
    const found = blobKeyOfUri(deps.blobs.rootUri, joinUri(run.artifactUri, source.path));
    if (found === undefined) {
      return {
        ok: false,
        reason: `the artifacts of run ${source.runId} (${run.artifactUri}) are outside the artifact store ${deps.blobs.rootUri}`,
      };
    }
    key = found;
    expectedSha256 = run.file.sha256;
  } else {
    key = source.key;
  }

  const read = await readBounded(deps.blobs, key, deps.maxArtifactBytes, signal);
  if (!read.ok) return read;
  if (expectedSha256 !== undefined && read.sha256 !== expectedSha256) {
    return {
      ok: false,
      reason: `the artifact's content has sha256 ${read.sha256}, but the run's artifact index records ${expectedSha256}`,
    };
  }
  const onnx = await checkOnnxModel(read.bytes);
  if (!onnx.ok) return onnx;
  return { ok: true, bytes: read.bytes, size: read.bytes.byteLength, sha256: read.sha256, signature: onnx.signature };
}

async function readBounded(
  blobs: Pick<BlobStore, "rootUri" | "get">,
  key: string,
  maxBytes: number,
  signal: AbortSignal | undefined,
): Promise<{ ok: true; bytes: Uint8Array; sha256: string } | RejectedArtifact> {
  let reader: Awaited<ReturnType<BlobStore["get"]>>;
  try {
    reader = await blobs.get(key, signal === undefined ? {} : { signal });
  } catch (err) {
    if (commonErrors.blobNotFound.is(err))
      return { ok: false, reason: `no artifact at ${joinUri(blobs.rootUri, key)}` };
    throw err;
  }
  if (reader.size > maxBytes) {
    return { ok: false, reason: `the artifact has ${reader.size} bytes, more than the limit of ${maxBytes}` };
  }
  const hash = createHash("sha256");
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of reader.body) {
    size += chunk.byteLength;
    if (size > maxBytes) return { ok: false, reason: `the artifact has more than the limit of ${maxBytes} bytes` };
    hash.update(chunk);
    chunks.push(chunk);
  }
  if (size === 0) return { ok: false, reason: "the artifact is empty" };
  return { ok: true, bytes: Buffer.concat(chunks), sha256: hash.digest("hex") };
}
