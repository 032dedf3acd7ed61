/**
 * The answer to a request no route or RPC matches: ROUTE_NOT_FOUND, encoded for its protocol.
 * gRPC and gRPC-Web clients get a trailers-only response with status UNIMPLEMENTED (what gRPC
 * servers answer for an unknown method); Connect calls get Connect's error (404 `not_found` with
 * the ErrorDetail, or an end-of-stream frame for a streaming call); everyone else gets 404 with
 * the JSON error body. The request body is not read (Node discards it).
 */
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import { Code, commonErrors } from "../../core/errors/index.js";
import { type ContentType, parseContentType } from "./content-type.js";
import { type ErrorWire, encodeError, rpcErrorWire, sendEncodedError } from "./error-response.js";

/**
 * The encoding of the answer: gRPC and gRPC-Web by content type; Connect's (its JSON error, or its
 * end-of-stream frame) for a Connect call, told from a JSON API request by its streaming or
 * binary content type or the `Connect-Protocol-Version` header Connect clients send; JSON otherwise.
 */
function notFoundWire(type: ContentType | undefined, connectVersion: unknown): ErrorWire {
  if (type === undefined) return "json";
  if (type.protocol !== "connect") return type.protocol;
  const connectCall = type.enveloped || type.codec !== "json" || connectVersion !== undefined;
  return connectCall ? rpcErrorWire(type) : "json";
}

/** Answers a request no route or RPC matches (connect-node's fallback). */
export const routeNotFound: NonNullable<ConnectNodeAdapterOptions["fallback"]> = (req, res) => {
  const path = (req.url ?? "").split("?", 1)[0] ?? "";
  const contentType = req.headers["content-type"] ?? "";
  const wire = notFoundWire(parseContentType(contentType), req.headers["connect-protocol-version"]);
  sendEncodedError(res, encodeError(commonErrors.notFoundRoute(path), wire, Code.Unimplemented), contentType);
};
