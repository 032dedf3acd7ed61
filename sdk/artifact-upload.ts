import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, join, relative, sep } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { commonErrors } from "../core/errors/common-errors.js";
import {
  type FileInfo,
  type TrackingService,
  type UploadArtifactRequest,
  UploadArtifactRequestSchema,
} from "../gen/mlpipe/tracking/v1/tracking_pb.js";

/** Bytes per UploadArtifact chunk message: 256 KiB, within the 64 KiB to 1 MiB the server streams best. */
export const uploadChunkBytes = 256 * 1024;

/** The lower-case hex SHA-256 of a file, read as a stream (memory stays bounded). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: uploadChunkBytes })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}

/**
 * Uploads one local file as the run's artifact at `artifactPath` (relative, `/`-separated):
 * hashes it first, then streams a header carrying the hash as `expected_sha256` and the content in
 * {@link uploadChunkBytes} chunks. The server refuses the upload with DATA_LOSS and stores nothing
 * if what arrived differs (the file changed in between, or bytes were corrupted on the way).
 * Returns the stored file's info. Not retried: a failed upload rejects with the server's error.
 */
export async function uploadArtifactFile(
  tracking: Client<typeof TrackingService>,
  runId: string,
  localFile: string,
  artifactPath: string = basename(localFile),
): Promise<FileInfo> {
  const expectedSha256 = await sha256File(localFile);
  async function* messages(): AsyncGenerator<UploadArtifactRequest> {
    yield create(UploadArtifactRequestSchema, {
      content: { case: "header", value: { runId, path: artifactPath, expectedSha256 } },
    });
    for await (const chunk of createReadStream(localFile, { highWaterMark: uploadChunkBytes })) {
      yield create(UploadArtifactRequestSchema, { content: { case: "chunk", value: chunk as Buffer } });
    }
  }
  const response = await tracking.uploadArtifact(messages());
  if (response.file === undefined) {
    throw commonErrors.internal(new Error("the server answered UploadArtifact without file info"));
  }
  return response.file;
}

/**
 * Uploads every file under `localDir` (recursively, in sorted path order, one at a time) keeping
 * their relative paths, under `artifactDir` when given. Returns the stored files' info.
 */
export async function uploadArtifactDir(
  tracking: Client<typeof TrackingService>,
  runId: string,
  localDir: string,
  artifactDir?: string,
): Promise<FileInfo[]> {
  const uploaded: FileInfo[] = [];
  for (const file of await listFiles(localDir)) {
    const rel = relative(localDir, file).split(sep).join("/");
    const path = artifactDir === undefined || artifactDir === "" ? rel : `${artifactDir.replace(/\/+$/, "")}/${rel}`;
    uploaded.push(await uploadArtifactFile(tracking, runId, file, path));
  }
  return uploaded;
}

/** Regular files under `dir`, recursively, sorted; symbolic links and other special files are skipped. */
async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}
