/**
 * Reading gRPC's length-prefixed messages from a request body as its chunks arrive: each message
 * is a flags byte (bit 0: compressed), a 4-byte big-endian length and the payload
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md#requests). Chunk boundaries fall
 * anywhere: inside a prefix, inside a payload, or between several messages of one chunk.
 */
import { commonErrors } from "../../core/errors/index.js";

/** One length-prefixed gRPC message: its compression flag and payload. */
export interface Frame {
  readonly compressed: boolean;
  /** A plain Uint8Array (not a Buffer) viewing the received bytes: see {@link plainBytes}. */
  readonly payload: Uint8Array;
}

/** Length of a message prefix: flags byte and 32-bit length. */
export const prefixBytes = 5;

/**
 * The same bytes as a plain Uint8Array, not a Buffer: a Buffer's `slice` is a view, so the tensor
 * bytes decoded from it would later be "copied" by reference to the whole chunk. (The chunks of an
 * HTTP/2 stream are fresh memory per read; nothing writes to them after they are delivered.)
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Splits a request body into messages as chunks arrive; refuses a message whose declared length
 * is above `limit` bytes (REQUEST_TOO_LARGE) as soon as its prefix is read, before buffering it.
 * A message within one chunk is not copied; one spread over several is joined once.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** `limit`: the largest payload accepted, in bytes (MAX_REQUEST_BYTES). */
  constructor(private readonly limit: number) {}

  /** Adds a chunk; returns the messages it completed, in order. Throws REQUEST_TOO_LARGE. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    while (this.buffered >= prefixBytes) {
      const first = this.chunks[0];
      const head = first !== undefined && first.length >= prefixBytes ? first : this.flatten();
      const length = head.readUInt32BE(1);
      if (length > this.limit) throw commonErrors.requestTooLarge(this.limit);
      if (this.buffered < prefixBytes + length) break;
      const all = this.chunks.length === 1 ? head : this.flatten();
      frames.push({
        compressed: ((all[0] ?? 0) & 1) === 1,
        payload: plainBytes(all.subarray(prefixBytes, prefixBytes + length)),
      });
      const rest = all.subarray(prefixBytes + length);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    return frames;
  }

  /** True when a message was started and not finished (the body ending now would cut it). */
  get partial(): boolean {
    return this.buffered > 0;
  }

  private flatten(): Buffer {
    const all = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [all];
    return all;
  }
}
