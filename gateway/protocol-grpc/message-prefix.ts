/** Writing gRPC's message prefix (the 5 bytes before each message of a response body). */
import { prefixBytes } from "./frame-reader.js";

/** The prefix of an uncompressed gRPC message of `length` bytes: flags 0, then the 32-bit big-endian length. */
export function messagePrefix(length: number): Buffer {
  const out = Buffer.allocUnsafe(prefixBytes);
  out[0] = 0;
  out.writeUInt32BE(length, 1);
  return out;
}
