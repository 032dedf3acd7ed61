import { Code } from "./code.js";
import { defineError } from "./define-error.js";

/** Errors of authentication, authorization and per-identity rate limits (auth/, gateway/auth/). */
export const authErrors = {
  unauthenticated: defineError(
    "AUTH_UNAUTHENTICATED",
    Code.Unauthenticated,
    "The call needs credentials: `Authorization: Bearer <token>` (an API token or an OIDC JWT) or a client certificate.",
    () => "authentication required: send Authorization: Bearer <token>",
  ),
  invalidToken: defineError(
    "AUTH_INVALID_TOKEN",
    Code.Unauthenticated,
    "The bearer token is unknown, revoked or malformed, or the JWT does not verify.",
    (reason: string) => `invalid bearer token: ${reason}`,
  ),
  tokenExpired: defineError(
    "AUTH_TOKEN_EXPIRED",
    Code.Unauthenticated,
    "The API token or JWT has expired; ask for a new one.",
    (at: string) => `the bearer token expired at ${at}`,
  ),
  invalidClientCertificate: defineError(
    "AUTH_INVALID_CLIENT_CERTIFICATE",
    Code.Unauthenticated,
    "The TLS client certificate does not verify against TLS_CLIENT_CA_FILE, or names no principal (CN).",
    (reason: string) => `client certificate not accepted: ${reason}`,
  ),
  permissionDenied: defineError(
    "AUTH_PERMISSION_DENIED",
    Code.PermissionDenied,
    "The authenticated principal lacks the permission the call needs; the message names it.",
    (principal: string, needed: string) => `${principal} may not do this: it needs ${needed}`,
  ),
  rateLimited: defineError(
    "AUTH_RATE_LIMITED",
    Code.ResourceExhausted,
    "The principal made more write calls than REGISTRY_WRITE_RATE_LIMIT allows; retry after Retry-After seconds.",
    (principal: string, retryAfterSeconds: number) =>
      `too many write calls from ${principal}; retry in ${retryAfterSeconds} s`,
  ),
  verifierUnavailable: defineError(
    "AUTH_VERIFIER_UNAVAILABLE",
    Code.Unavailable,
    "The credentials could not be checked: the registry (API tokens, for an inference server) or the OIDC issuer's keys cannot be reached. Retry later.",
    (what: string, _cause?: unknown) => `cannot verify the credentials now: ${what} is unreachable; retry later`,
    (_what: string, cause?: unknown) => ({ cause }),
  ),
  tokenNotFound: defineError(
    "AUTH_TOKEN_NOT_FOUND",
    Code.NotFound,
    "No API token has this id.",
    (tokenId: string) => `no API token has id "${tokenId}"`,
    () => ({ field: "token_id" }),
  ),
  grantNotFound: defineError(
    "AUTH_GRANT_NOT_FOUND",
    Code.NotFound,
    "The principal has no grant on this resource.",
    (principal: string, resource: string) => `${principal} has no grant on ${resource}`,
  ),
};
