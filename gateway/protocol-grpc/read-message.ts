/** Turning a received gRPC message into the protobuf request it carries. */
import { type DescMessage, fromBinary, type MessageShape } from "@bufbuild/protobuf";
import { commonErrors } from "../../core/errors/index.js";
import type { Frame } from "./frame-reader.js";
import { decompressFrame } from "./message-encoding.js";

/** Parses a protobuf message of `schema`; bytes that are not one are INVALID_ARGUMENT (field "request"). */
function parseMessage<D extends DescMessage>(schema: D, bytes: Uint8Array): MessageShape<D> {
  try {
    return fromBinary(schema, bytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw commonErrors.invalidArgument("request", `not a valid ${schema.typeName} message (${reason})`);
  }
}

/**
 * The request message of `frame`: parsed at once when it is not compressed (no promise on the hot
 * path), else a promise of it once decompressed (see decompressFrame for its errors).
 */
export function readMessage<D extends DescMessage>(
  schema: D,
  frame: Frame,
  encoding: string | undefined,
  limit: number,
): MessageShape<D> | Promise<MessageShape<D>> {
  if (!frame.compressed) return parseMessage(schema, frame.payload);
  return decompressFrame(frame, encoding, limit).then((bytes) => parseMessage(schema, bytes));
}
