/**
 * Authentication at the edge: the one function that turns a request's credentials into an
 * Identity, the same for every surface (Connect, gRPC, gRPC-Web, the JSON routes) and for both
 * servers. It accepts `Authorization: Bearer <API token>` and, with OIDC configured,
 * `Authorization: Bearer <JWT>` (told apart by shape: a JWT is three base64url parts, an API token
 * has no dot); a request without credentials has no identity and the authorization guard (or the
 * inference edge, inference-authentication.ts) decides whether it needs one.
 */
import type { Identity } from "../../auth/identity.js";
import type { TokenVerifier } from "../../auth/token-verifier.js";
import { authErrors } from "../../core/errors/index.js";
import { looksLikeJwt } from "./oidc-verifier.js";

/** Turns request headers into the caller's identity; undefined without credentials. */
export type Authenticator = (headers: Headers) => Promise<Identity | undefined>;

/** Options of {@link createBearerAuthenticator}. */
export interface BearerAuthenticatorOptions {
  /**
   * Verifies API tokens (the registry's store, or the registry asked by an inference server);
   * undefined: API tokens are not accepted (an inference server with OIDC and no registry).
   */
  readonly tokens?: TokenVerifier | undefined;
  /** Verifies OIDC JWTs (oidc-verifier.ts); undefined: no OIDC issuer is configured. */
  readonly oidc?: TokenVerifier | undefined;
}

const bearer = /^Bearer[ \t]+([!-~]+)[ \t]*$/i;

/**
 * Creates the authenticator. A present but malformed Authorization header, or one of another
 * scheme, is AUTH_INVALID_TOKEN rather than anonymous: a client that means to authenticate
 * must learn that it did not.
 */
export function createBearerAuthenticator(options: BearerAuthenticatorOptions): Authenticator {
  return async (headers) => {
    const header = headers.get("authorization");
    if (header === null || header.trim() === "") return undefined;
    const token = bearer.exec(header)?.[1];
    if (token === undefined) throw authErrors.invalidToken("expected Authorization: Bearer <token>");
    const verifier = options.oidc !== undefined && looksLikeJwt(token) ? options.oidc : options.tokens;
    if (verifier === undefined) throw authErrors.invalidToken("only OIDC JWTs are accepted here");
    return verifier.verify(token);
  };
}
