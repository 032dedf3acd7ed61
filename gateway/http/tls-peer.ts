import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { TLSSocket } from "node:tls";

/**
 * The common name (CN) of the client certificate a request's TLS connection presented and the
 * listener verified against TLS_CLIENT_CA_FILE; undefined on cleartext, without mutual TLS, or
 * when the certificate has no CN. Works for both HTTP versions (an HTTP/2 request's connection is
 * its session's socket).
 */
export function verifiedPeerName(req: IncomingMessage | Http2ServerRequest): string | undefined {
  const socket = "stream" in req ? req.stream.session?.socket : req.socket;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const cn: unknown = socket.getPeerCertificate().subject?.CN;
  // A certificate may carry several CNs (an array); only a single one names a principal.
  return typeof cn === "string" && cn !== "" ? cn : undefined;
}
