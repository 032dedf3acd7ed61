/**
 * Verifying OIDC bearer JWTs with `jose`: the signature against the issuer's JWKS (fetched from
 * OIDC_JWKS_URL, else from the `jwks_uri` of the issuer's discovery document, and cached and
 * refreshed by jose), then `iss`, `aud`, `exp` and `nbf`. Only asymmetric algorithms are accepted,
 * so `alg: none` and HMAC tokens signed with a public key are refused. The principal is one claim
 * of the token (OIDC_PRINCIPAL_CLAIM, default `sub`). The registry and the inference server verify
 * JWTs the same way, each locally.
 */
import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import { principalProblem } from "../../auth/identity.js";
import type { TokenVerifier } from "../../auth/token-verifier.js";
import { authErrors } from "../../core/errors/index.js";

/** Options of {@link createOidcVerifier}. */
export interface OidcVerifierOptions {
  /** The issuer (OIDC_ISSUER), compared with the `iss` claim exactly. */
  readonly issuer: string;
  /** The audience the token must name in `aud` (OIDC_AUDIENCE). */
  readonly audience: string;
  /** The JWKS URL (OIDC_JWKS_URL); default: `jwks_uri` of `<issuer>/.well-known/openid-configuration`. */
  readonly jwksUrl?: string | undefined;
  /** The claim naming the principal (OIDC_PRINCIPAL_CLAIM, default "sub"), e.g. "email". */
  readonly principalClaim?: string | undefined;
  /** Longest wait for the discovery document or the JWKS, in ms (default 5 000). */
  readonly timeoutMs?: number | undefined;
  /** Clock skew tolerated on `exp` and `nbf`, in seconds (default 30). */
  readonly clockToleranceSeconds?: number | undefined;
}

/** The JWS algorithms accepted: asymmetric only (never `none`, never HMAC with a public key). */
const algorithms = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];

/** jose errors that are the token's fault (401); any other failure is the verifier's (503). */
const tokenFaults = new Set([
  "ERR_JWT_CLAIM_VALIDATION_FAILED",
  "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
  "ERR_JWKS_NO_MATCHING_KEY",
  "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
  "ERR_JOSE_ALG_NOT_ALLOWED",
  "ERR_JOSE_NOT_SUPPORTED",
  "ERR_JWS_INVALID",
  "ERR_JWT_INVALID",
]);

/** Whether a bearer token has the shape of a JWS compact serialization (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/** Longest JWT accepted, in characters. */
const maxJwtLength = 16 * 1024;

/** Creates the verifier; nothing is fetched until the first token arrives. */
export function createOidcVerifier(options: OidcVerifierOptions): TokenVerifier {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const claim = options.principalClaim ?? "sub";
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const keySet = (): Promise<JWTVerifyGetKey> => {
    if (keys === undefined) {
      keys = jwksUrl(options, timeoutMs).then((url) =>
        createRemoteJWKSet(new URL(url), { timeoutDuration: timeoutMs }),
      );
      // A failed discovery is retried by the next token rather than remembered.
      keys.catch(() => {
        keys = undefined;
      });
    }
    return keys;
  };
  return {
    async verify(token) {
      if (token.length > maxJwtLength) throw authErrors.invalidToken("too long");
      let getKey: JWTVerifyGetKey;
      try {
        getKey = await keySet();
      } catch (err) {
        throw authErrors.verifierUnavailable("the OIDC issuer's discovery document", err);
      }
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms,
          clockTolerance: options.clockToleranceSeconds ?? 30,
          requiredClaims: ["exp"],
        }));
      } catch (err) {
        if (err instanceof errors.JWTExpired) {
          const exp = err.payload.exp;
          throw authErrors.tokenExpired(
            typeof exp === "number" ? new Date(exp * 1000).toISOString() : "an unknown time",
          );
        }
        if (err instanceof errors.JOSEError && tokenFaults.has(err.code)) throw authErrors.invalidToken(err.message);
        throw authErrors.verifierUnavailable("the OIDC issuer's JWKS", err);
      }
      const principal = payload[claim];
      if (typeof principal !== "string") throw authErrors.invalidToken(`the JWT has no string claim "${claim}"`);
      const problem = principalProblem(principal);
      if (problem !== undefined) throw authErrors.invalidToken(`the JWT's "${claim}" claim ${problem}`);
      return {
        principal,
        method: "oidc",
        ...(typeof payload.exp === "number" ? { expiresAt: payload.exp * 1000 } : {}),
      };
    },
  };
}

/** The JWKS URL: the configured one, or the discovery document's `jwks_uri`. */
async function jwksUrl(options: OidcVerifierOptions, timeoutMs: number): Promise<string> {
  if (options.jwksUrl !== undefined) return options.jwksUrl;
  const discovery = `${options.issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  const res = await fetch(discovery, { signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
  if (!res.ok) throw new Error(`${discovery} answered HTTP ${res.status}`);
  const doc: unknown = await res.json();
  const uri = typeof doc === "object" && doc !== null && "jwks_uri" in doc ? doc.jwks_uri : undefined;
  if (typeof uri !== "string" || !/^https?:\/\//.test(uri)) throw new Error(`${discovery} has no http(s) jwks_uri`);
  return uri;
}
