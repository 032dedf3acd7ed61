/**
 * The answer to a request no route or RPC matches: ROUTE_NOT_FOUND, encoded for its protocol.
 * gRPC and gRPC-Web clients get a trailers-only response with status UNIMPLEMENTED (what gRPC
 * servers answer for an unknown method); everyone else gets 404 with the JSON error body. The
 * request body is not read (Node discards it).
 */
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import { Code, commonErrors } from "../../core/errors/index.js";
import { parseContentType } from "./content-type.js";
import { encodeError, sendEncodedError } from "./error-response.js";

/** Answers a request no route or RPC matches (connect-node's fallback). */
export const routeNotFound: NonNullable<ConnectNodeAdapterOptions["fallback"]> = (req, res) => {
  const path = (req.url ?? "").split("?", 1)[0] ?? "";
  const contentType = req.headers["content-type"] ?? "";
  const protocol = parseContentType(contentType)?.protocol;
  const wire = protocol === "grpc" || protocol === "grpc_web" ? protocol : "json";
  sendEncodedError(res, encodeError(commonErrors.notFoundRoute(path), wire, Code.Unimplemented), contentType);
};
