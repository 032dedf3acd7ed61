/**
 * Authentication of RPCs: a connect-es interceptor that runs the edge's authenticator on the
 * request headers (or, without credentials there, takes the verified TLS client certificate's CN,
 * client-certificate.ts) and puts the identity in the call's context values (auth/identity-context.ts),
 * where the authorization guard around each service reads it. It sits just outside the error
 * interceptor and translates its own errors the same way; an UNAUTHENTICATED answer carries
 * `WWW-Authenticate` (RFC 6750): in the headers of a unary or client-streaming call, and in the
 * trailers (gRPC, gRPC-Web trailer frame, Connect end-of-stream metadata) of a server-streaming or
 * bidi call, whose headers are already sent when the guard refuses it while its stream starts.
 */
import { Code as ConnectCode, ConnectError, type Interceptor } from "@connectrpc/connect";
import { identityKey } from "../../auth/identity-context.js";
import type { Logger } from "../../core/logger.js";
import { toConnectError } from "../protocol-connect/error-interceptor.js";
import type { Authenticator } from "./bearer-authenticator.js";
import { certificateIdentity } from "./client-certificate.js";

/** The challenge sent with UNAUTHENTICATED answers. */
export const wwwAuthenticate = 'Bearer realm="mlpipe"';

/** Creates the interceptor; pass it last among the connect handler's interceptors. */
export function createAuthenticationInterceptor(authenticate: Authenticator, logger: Logger): Interceptor {
  return (next) => async (req) => {
    try {
      // A token wins over a client certificate: a service holding one may act as a token's owner.
      req.contextValues.set(identityKey, (await authenticate(req.header)) ?? certificateIdentity(req.contextValues));
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: challengeRefusals(res.message) };
    } catch (err) {
      const context = { procedure: `/${req.service.typeName}/${req.method.name}`, signal: req.signal };
      throw challenged(toConnectError(err, context, logger));
    }
  };
}

/** `err` with the Bearer challenge in its metadata when it is UNAUTHENTICATED. */
function challenged(err: ConnectError): ConnectError {
  if (err.code === ConnectCode.Unauthenticated) err.metadata.set("www-authenticate", wwwAuthenticate);
  return err;
}

/**
 * A response stream whose UNAUTHENTICATED end carries the challenge (the error interceptor inside
 * has already made every error a ConnectError).
 */
async function* challengeRefusals<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (err) {
    throw err instanceof ConnectError ? challenged(err) : err;
  }
}
