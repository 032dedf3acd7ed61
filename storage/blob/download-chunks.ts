/** Largest chunk a download stream message carries, in bytes (1 MiB, under every client's default message limit). */
export const downloadChunkBytes = 1024 * 1024;

/**
 * The bytes of a blob's body re-cut into chunks of at most `maxBytes` (views of the body's
 * chunks, no copies), for download streams whose messages must stay under a size limit.
 */
export async function* downloadChunks(
  body: AsyncIterable<Uint8Array>,
  maxBytes: number = downloadChunkBytes,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    for (let offset = 0; offset < chunk.byteLength; offset += maxBytes) {
      yield chunk.subarray(offset, offset + maxBytes);
    }
  }
}
