import type { OutgoingHttpHeaders } from "node:http";

/**
 * Percent-encodes a gRPC status message as the gRPC HTTP/2 spec says: UTF-8, then every byte
 * outside printable ASCII (0x20-0x7E) and `%` itself as `%XX`
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md#responses). Unlike
 * encodeURIComponent it leaves `/`, `:`, `"` and the like alone, which matters because grpc-js
 * decodes with decodeURI, which does not decode `%2F` and other reserved characters.
 */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * Makes the `grpc-message` trailers a response will send spec-encoded: connect-es writes them with
 * encodeURIComponent, which grpc-js clients show undecoded ("no file a%2Fb"). Only for the gRPC
 * protocol; gRPC-Web clients decode with decodeURIComponent.
 */
export function respecGrpcMessageTrailer(res: { addTrailers(headers: OutgoingHttpHeaders): void }): void {
  const addTrailers = res.addTrailers.bind(res);
  res.addTrailers = (headers: OutgoingHttpHeaders) => {
    const message = headers["grpc-message"];
    if (typeof message === "string") {
      let decoded = message;
      try {
        decoded = decodeURIComponent(message);
      } catch {
        // Not percent-encoded after all: send it re-encoded as it is.
      }
      addTrailers({ ...headers, "grpc-message": encodeGrpcMessage(decoded) });
      return;
    }
    addTrailers(headers);
  };
}
