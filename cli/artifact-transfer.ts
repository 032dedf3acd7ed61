/**
 * Artifact uploads and downloads with a progress bar: the SDK's protocol (a header carrying the
 * expected SHA-256, then 256 KiB chunks) counting bytes as they go, and the SDK's downloads (each
 * file checked against the announced SHA-256) reporting theirs.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { commonErrors } from "../core/errors/common-errors.js";
import {
  type FileInfo,
  type TrackingService,
  type UploadArtifactRequest,
  UploadArtifactRequestSchema,
} from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { downloadArtifactDir, downloadArtifactFile, sha256File, uploadChunkBytes } from "../sdk/index.js";
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
 * Downloads the artifact file `path` of run `runId` to `localFile` with the SDK (SHA-256 checked,
 * written atomically), drawing progress on `progress`.
 */
export async function downloadWithProgress(
  tracking: Client<typeof TrackingService>,
  runId: string,
  path: string,
  localFile: string,
  progress: CliOutput,
): Promise<FileInfo> {
  const bar = createProgressBar({ stream: progress, label: `downloading ${path}` });
  try {
    const info = await downloadArtifactFile(tracking, runId, path, localFile, {
      onProgress: (done, total) => bar.update(done, total),
    });
    bar.finish();
    return info;
  } catch (err) {
    bar.abandon();
    throw err;
  }
}

/**
 * Downloads every file under the artifact directory `dir` of run `runId` ("" for all) into
 * `localDir` with the SDK, keeping their layout, drawing one progress bar over all their bytes.
 */
export async function downloadDirWithProgress(
  tracking: Client<typeof TrackingService>,
  runId: string,
  dir: string,
  localDir: string,
  progress: CliOutput,
): Promise<FileInfo[]> {
  const bar = createProgressBar({ stream: progress, label: `downloading ${dir === "" ? "all artifacts" : `${dir}/`}` });
  try {
    const files = await downloadArtifactDir(tracking, runId, dir, localDir, {
      onProgress: (done, total) => bar.update(done, total),
    });
    bar.finish();
    return files;
  } catch (err) {
    bar.abandon();
    throw err;
  }
}
