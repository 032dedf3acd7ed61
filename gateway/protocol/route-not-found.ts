import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import { commonErrors } from "../../core/errors/common-errors.js";
import { httpStatusOf } from "../../core/errors/http-status.js";
import { errorJsonBody } from "../../core/errors/mlpipe-error.js";
import { encodeGrpcMessage } from "../protocol-grpc/grpc-message.js";

/** gRPC's status for an unknown method (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
const grpcUnimplemented = "12";

/**
 * Answers a request no route or RPC matches. gRPC and gRPC-Web clients get a trailers-only
 * response with status UNIMPLEMENTED (what gRPC servers answer for an unknown method); everyone
 * else gets 404 with the JSON error body of ROUTE_NOT_FOUND. The request body is not read (Node
 * discards it).
 */
export const routeNotFound: NonNullable<ConnectNodeAdapterOptions["fallback"]> = (req, res) => {
  const path = (req.url ?? "").split("?", 1)[0] ?? "";
  const err = commonErrors.notFoundRoute(path);
  const contentType = req.headers["content-type"] ?? "";
  if (/^application\/grpc(-web)?([+;]|$)/.test(contentType)) {
    const headers = {
      "content-type": contentType,
      "grpc-status": grpcUnimplemented,
      "grpc-message": encodeGrpcMessage(err.message),
    };
    if ("stream" in res) {
      // HTTP/2: a single HEADERS frame with END_STREAM, which gRPC clients read as trailers-only
      // (the compatibility API would send the end of stream in a separate DATA frame).
      res.stream.respond({ ":status": 200, ...headers }, { endStream: true });
      return;
    }
    res.writeHead(200, headers);
    res.end();
    return;
  }
  const body = JSON.stringify(errorJsonBody(err));
  res.writeHead(httpStatusOf(err), {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
};
