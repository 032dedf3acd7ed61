/**
 * gRPC message compression on requests: the `grpc-encoding` a call declares and the decompression
 * of its compressed messages. gzip and deflate are accepted, decompressed no larger than the
 * request limit (a small message must not inflate into an unbounded one); responses are never
 * compressed, since raw float tensors barely shrink.
 */
import { promisify } from "node:util";
import { gunzip, inflate } from "node:zlib";
import { commonErrors } from "../../core/errors/index.js";
import { type Frame, plainBytes } from "./frame-reader.js";

/** What the server accepts, for the `grpc-accept-encoding` response header. */
export const acceptEncoding = "identity,gzip,deflate";

type Decompress = (bytes: Uint8Array, options: { maxOutputLength: number }) => Promise<Buffer>;

const decompressors: Readonly<Record<string, Decompress>> = {
  gzip: promisify(gunzip),
  deflate: promisify(inflate),
};

/**
 * The compression of a call's messages from its `grpc-encoding` header: undefined for none
 * ("identity" or absent). Throws UNSUPPORTED_ENCODING (UNIMPLEMENTED) for any other.
 */
export function requestEncoding(header: string | undefined): string | undefined {
  if (header === undefined || header === "identity") return undefined;
  if (decompressors[header] === undefined) throw commonErrors.unsupportedEncoding(header, acceptEncoding);
  return header;
}

/**
 * The payload of a message, decompressed when its flag says so with the call's `encoding`
 * (from {@link requestEncoding}). Rejects with INVALID_ARGUMENT when a compressed message comes
 * without an encoding or does not decompress, REQUEST_TOO_LARGE beyond `limit` bytes.
 */
export async function decompressFrame(frame: Frame, encoding: string | undefined, limit: number): Promise<Uint8Array> {
  if (!frame.compressed) return frame.payload;
  const decompress = encoding === undefined ? undefined : decompressors[encoding];
  if (decompress === undefined) {
    throw commonErrors.invalidArgument("request", "a compressed message without a supported grpc-encoding");
  }
  try {
    return plainBytes(await decompress(frame.payload, { maxOutputLength: limit }));
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw commonErrors.requestTooLarge(limit);
    throw commonErrors.invalidArgument("request", `the ${encoding} message cannot be decompressed`);
  }
}
