import { Code } from "./code.js";
import { defineError } from "./define-error.js";

/** Errors of authentication and authorization (auth/, gateway/auth/). */
export const authErrors = {
  unauthenticated: defineError(
    "AUTH_UNAUTHENTICATED",
    Code.Unauthenticated,
    "The call needs credentials: `Authorization: Bearer <API token or OIDC JWT>` (REGISTRY_AUTH=token, INFERENCE_AUTH=token).",
    () => "authentication required: send Authorization: Bearer <token>",
  ),
  invalidToken: defineError(
    "AUTH_INVALID_TOKEN",
    Code.Unauthenticated,
    "The bearer token is unknown, revoked or malformed, or the Authorization header is not `Bearer <token>`.",
    (reason: string) => `invalid bearer token: ${reason}`,
  ),
  tokenExpired: defineError(
    "AUTH_TOKEN_EXPIRED",
    Code.Unauthenticated,
    "The API token or OIDC JWT has expired; get a new one.",
    (at: string) => `the bearer token expired at ${at}`,
  ),
  verifierUnavailable: defineError(
    "AUTH_VERIFIER_UNAVAILABLE",
    Code.Unavailable,
    "The service that verifies bearer tokens (the registry's WhoAmI for an inference server, or the OIDC issuer's JWKS) cannot be reached; retry later.",
    (what: string, _cause?: unknown) => `cannot verify the bearer token: ${what} is unavailable; retry later`,
    (_what: string, cause?: unknown) => ({ cause }),
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
