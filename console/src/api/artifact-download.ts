/** Reads a run's artifact in the browser over the DownloadArtifact stream (a FileInfo, then chunks). */
import type { Client } from "@connectrpc/connect";
import type { FileInfo, TrackingService } from "../../../gen/mlpipe/tracking/v1/tracking_pb.js";

/** What was read. */
export interface ArtifactContent {
  readonly info: FileInfo | undefined;
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** True when the file is longer than the limit and only its start was read. */
  readonly truncated: boolean;
}

/** Reads `path` of run `runId`, at most `limit` bytes (the stream is canceled beyond). */
export async function readArtifact(
  tracking: Client<typeof TrackingService>,
  runId: string,
  path: string,
  limit: number,
  signal: AbortSignal,
): Promise<ArtifactContent> {
  let info: FileInfo | undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for await (const message of tracking.downloadArtifact({ runId, path }, { signal })) {
    if (message.content.case === "info") info = message.content.value;
    else if (message.content.case === "chunk") {
      chunks.push(message.content.value);
      size += message.content.value.length;
      if (size >= limit) {
        truncated = size > limit || (info !== undefined && Number(info.fileSize) > limit);
        break;
      }
    }
  }
  const bytes = new Uint8Array(new ArrayBuffer(Math.min(size, limit)));
  let offset = 0;
  for (const c of chunks) {
    const part = c.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.length;
  }
  return { info, bytes, truncated };
}

/** Lower-case hex SHA-256 of `bytes`; undefined where the browser offers no Web Crypto (a plain-HTTP origin other than localhost). */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string | undefined> {
  if (globalThis.crypto?.subtle === undefined) return undefined;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}
