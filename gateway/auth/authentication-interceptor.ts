/**
 * Authentication of RPCs: a connect-es interceptor that runs the edge's authenticator on the
 * request headers (or, without credentials there, takes the verified TLS client certificate's CN,
 * client-certificate.ts) and puts the identity in the call's context values (auth/identity-context.ts),
 * where the authorization guard around each service reads it. It sits just outside the error
 * interceptor and translates its own errors the same way; an UNAUTHENTICATED answer of a unary or
 * client-streaming call carries `WWW-Authenticate` (RFC 6750) in its headers.
 */
import { Code as ConnectCode, type Interceptor } from "@connectrpc/connect";
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
      return await next(req);
    } catch (err) {
      const context = { procedure: `/${req.service.typeName}/${req.method.name}`, signal: req.signal };
      const translated = toConnectError(err, context, logger);
      if (translated.code === ConnectCode.Unauthenticated) translated.metadata.set("www-authenticate", wwwAuthenticate);
      throw translated;
    }
  };
}
