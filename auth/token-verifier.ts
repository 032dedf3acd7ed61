/**
 * Verifying a presented bearer API token against the registry's own store: an Identity, or a
 * catalogued UNAUTHENTICATED error. (An inference server, which has no database, is meant to ask
 * the registry's AuthService.WhoAmI through the same TokenVerifier interface; not built yet.)
 */
import { authErrors } from "../core/errors/index.js";
import { hashApiToken } from "./api-token.js";
import type { AuthStore } from "./auth-store.js";
import type { Identity } from "./identity.js";

/** Turns a bearer API token into the identity it authenticates. */
export interface TokenVerifier {
  /** The token's identity; AUTH_INVALID_TOKEN or AUTH_TOKEN_EXPIRED when it is not usable. */
  verify(token: string): Promise<Identity>;
}

/** Options of {@link createStoreTokenVerifier}. */
export interface StoreTokenVerifierOptions {
  readonly store: AuthStore;
  /** A token's last-used time is written at most this often, in ms (default 60 s), not at every call. */
  readonly touchIntervalMs?: number;
  /** Failures to record a use, which never fail the call. */
  readonly onTouchError?: (err: unknown) => void;
  /** The clock, in ms since the epoch (tests). */
  readonly now?: () => number;
}

/** Longest token accepted before hashing, in characters: anything longer is no token of ours. */
const maxTokenLength = 4096;

/** Checks a stored token's state; the identity it authenticates, or the error it is. */
export function identityOfToken(
  token: { tokenId: string; principal: string; expireTime: number | undefined; revokeTime: number | undefined },
  now: number,
): Identity {
  if (token.revokeTime !== undefined) throw authErrors.invalidToken("revoked");
  if (token.expireTime !== undefined && token.expireTime <= now) {
    throw authErrors.tokenExpired(new Date(token.expireTime).toISOString());
  }
  return {
    principal: token.principal,
    method: "token",
    tokenId: token.tokenId,
    ...(token.expireTime === undefined ? {} : { expiresAt: token.expireTime }),
  };
}

/** Verifies tokens against the store: one indexed lookup by the token's SHA-256 per call. */
export function createStoreTokenVerifier(options: StoreTokenVerifierOptions): TokenVerifier {
  const { store } = options;
  const now = options.now ?? Date.now;
  const touchIntervalMs = options.touchIntervalMs ?? 60_000;
  /** Token id -> when its last use was written. Bounded by the number of live tokens. */
  const touched = new Map<string, number>();
  return {
    async verify(token) {
      if (token.length > maxTokenLength) throw authErrors.invalidToken("too long");
      const record = await store.findToken(hashApiToken(token));
      if (record === undefined) throw authErrors.invalidToken("unknown token");
      const at = now();
      const identity = identityOfToken(record, at);
      if (at - (touched.get(record.tokenId) ?? Number.NEGATIVE_INFINITY) >= touchIntervalMs) {
        touched.set(record.tokenId, at);
        store.touchToken(record.tokenId, at).catch((err: unknown) => options.onTouchError?.(err));
      }
      return identity;
    },
  };
}
