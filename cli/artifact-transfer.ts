/**
 * Artifact uploads and downloads with a progress bar: the SDK's protocol (a header carrying the
 * expected SHA-256, then 256 KiB chunks; a download checked against the announced SHA-256),
 * counting bytes as they go.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { cliErrors } from "../core/errors/cli-errors.js";
import { commonErrors } from "../core/errors/common-errors.js";
import {
  type FileInfo,
  type TrackingService,
  type UploadArtifactRequest,
  UploadArtifactRequestSchema,
} from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { sha256File, uploadChunkBytes } from "../sdk/index.js";
import type { CliOutput } from "./cli-io.js";
import { createProgressBar } from "./progress-bar.js";

/** The size of a local regular file; INVALID_ARGUMENT naming `field` when there is none. */
export async function localFileSize(path: string, field: string): Promise<number> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw commonErrors.invalidArgument(field, `"${path}" is not a regular file`);
    return s.size;
  } catch (err) {
    if (err instanceof Error && "code" in err && (err.code === "ENOENT" || err.code === "ENOTDIR")) {
      throw commonErrors.invalidArgument(field, `no such file "${path}"`);
    }
    throw err;
  }
}

/** Uploads `localFile` as the artifact `artifactPath` of run `runId`, drawing progress on `progress`. */
export async function uploadWithProgress(
  tracking: Client<typeof TrackingService>,
  runId: string,
  localFile: string,
  artifactPath: string,
  progress: CliOutput,
): Promise<FileInfo> {
  const size = await localFileSize(localFile, "<local>");
  const expectedSha256 = await sha256File(localFile);
  const bar = createProgressBar({ stream: progress, label: `uploading ${artifactPath}`, total: size });
  let sent = 0;
  async function* messages(): AsyncGenerator<UploadArtifactRequest> {
    yield create(UploadArtifactRequestSchema, {
      content: { case: "header", value: { runId, path: artifactPath, expectedSha256 } },
    });
    for await (const chunk of createReadStream(localFile, { highWaterMark: uploadChunkBytes })) {
      const bytes = chunk as Buffer;
      yield create(UploadArtifactRequestSchema, { content: { case: "chunk", value: bytes } });
      sent += bytes.length;
      bar.update(sent);
    }
  }
  try {
    const response = await tracking.uploadArtifact(messages());
    if (response.file === undefined) throw commonErrors.internal(new Error("UploadArtifact answered no file info"));
    bar.finish();
    return response.file;
  } catch (err) {
    bar.abandon();
    throw err;
  }
}

/**
 * Downloads the artifact `path` of run `runId` to `localFile` (parent directories created). The
 * content goes to a temporary file beside it, renamed into place only once complete and matching
 * the announced SHA-256, so an interrupted or corrupted download never leaves a partial file.
 */
export async function downloadWithProgress(
  tracking: Client<typeof TrackingService>,
  runId: string,
  path: string,
  localFile: string,
  progress: CliOutput,
): Promise<FileInfo> {
  await mkdir(dirname(localFile), { recursive: true });
  const partial = `${localFile}.part-${process.pid}`;
  const out = createWriteStream(partial);
  const hash = createHash("sha256");
  const bar = createProgressBar({ stream: progress, label: `downloading ${path}` });
  let info: FileInfo | undefined;
  let received = 0;
  try {
    for await (const message of tracking.downloadArtifact({ runId, path })) {
      if (message.content.case === "info") {
        info = message.content.value;
        bar.update(received, Number(info.fileSize));
      } else if (message.content.case === "chunk") {
        const chunk = message.content.value;
        hash.update(chunk);
        received += chunk.length;
        if (!out.write(chunk)) await once(out, "drain");
        bar.update(received);
      }
    }
    out.end();
    await once(out, "finish");
    if (info === undefined) throw commonErrors.internal(new Error("DownloadArtifact sent no file info"));
    const actual = hash.digest("hex");
    if (info.sha256 !== "" && info.sha256 !== actual) {
      throw cliErrors.downloadChecksumMismatch(path, info.sha256, actual);
    }
    await rename(partial, localFile);
    bar.finish();
    return info;
  } catch (err) {
    bar.abandon();
    out.destroy();
    await rm(partial, { force: true });
    throw err;
  }
}
