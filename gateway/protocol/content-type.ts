/**
 * The one reading of a request's Content-Type at the edge: which RPC protocol a request speaks
 * (gRPC, gRPC-Web, Connect unary or streaming) and with which codec, as connect-es tells them apart
 * (its protocol-grpc, protocol-grpc-web and protocol-connect `content-type.ts`), but lenient where
 * routing needs it to be: parameters after `;` are ignored and any `+codec` suffix is reported
 * rather than refused, so that a request with a codec the server does not speak still reaches the
 * handler that answers it with the right error. A plain `application/json` (or `application/proto`)
 * body is Connect unary as far as the content type can tell; whether it is the JSON API instead is
 * the route's to say.
 */
import type { Protocol } from "../../server/call-context.js";

/** The RPC protocol of a request, spelled as the `protocol` label of the inference metrics. */
export type RpcProtocol = Exclude<Protocol, "http">;

/** What a Content-Type header says about the request's wire protocol. */
export interface ContentType {
  readonly protocol: RpcProtocol;
  /**
   * True when the body is a sequence of length-prefixed messages: always for gRPC and gRPC-Web,
   * for Connect only on streaming calls (`application/connect+json`). False for Connect unary.
   */
  readonly enveloped: boolean;
  /** The message codec, lowercase: "proto" (also gRPC's default), "json", or another `+suffix`. */
  readonly codec: string;
  /** gRPC-Web's base64 text form (`application/grpc-web-text`). */
  readonly text: boolean;
}

// 1: the enveloped protocols, 2: their codec suffix, 3: Connect unary's codec.
const pattern = /^application\/(?:(grpc-web-text|grpc-web|grpc|connect)(?:\+([\w.-]+))?|(json|proto))\s*(?:;.*)?$/i;

/** Parsed values by header text: a handful of distinct values arrive over and over. */
const parsed = new Map<string, ContentType | undefined>();
/** Distinct values remembered at most (clients choose the text; beyond this it is parsed each time). */
const memoLimit = 64;

function parse(value: string): ContentType | undefined {
  const match = pattern.exec(value);
  if (match === null) return undefined;
  const [, family, suffix, unary] = match;
  if (unary !== undefined) return { protocol: "connect", enveloped: false, codec: unary.toLowerCase(), text: false };
  const name = (family ?? "").toLowerCase();
  const codec = suffix?.toLowerCase();
  if (name === "connect") {
    // Connect streaming always names its codec: "application/connect" alone is not a protocol.
    return codec === undefined ? undefined : { protocol: "connect", enveloped: true, codec, text: false };
  }
  return {
    protocol: name === "grpc" ? "grpc" : "grpc_web",
    enveloped: true,
    codec: codec ?? "proto",
    text: name === "grpc-web-text",
  };
}

/** Reads a Content-Type header; undefined when it names none of the RPC protocols (or is absent). */
export function parseContentType(value: string | undefined): ContentType | undefined {
  if (value === undefined) return undefined;
  if (parsed.has(value)) return parsed.get(value);
  // Frozen: the same object is handed to every request with this header.
  const result = parse(value);
  if (result !== undefined) Object.freeze(result);
  if (parsed.size < memoLimit) parsed.set(value, result);
  return result;
}
