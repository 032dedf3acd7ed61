/**
 * Mutual TLS as an authentication method: the listener verified the client certificate
 * (gateway/http/tls-peer.ts), the edge puts its CN in the call's context values, and the
 * authentication interceptor makes it the identity (method "mtls") of a call without a token.
 */
import { type ContextValues, createContextKey } from "@connectrpc/connect";
import { type Identity, principalProblem } from "../../auth/identity.js";

/** The verified client certificate's CN of the call's connection; undefined without mutual TLS. */
export const clientCertificateKey = createContextKey<string | undefined>(undefined, {
  description: "mlpipe verified client certificate CN",
});

/** The identity a verified client certificate gives, or undefined (none, or a CN unusable as a principal). */
export function certificateIdentity(values: ContextValues): Identity | undefined {
  const cn = values.get(clientCertificateKey);
  if (cn === undefined || principalProblem(cn) !== undefined) return undefined;
  return { principal: cn, method: "mtls" };
}
