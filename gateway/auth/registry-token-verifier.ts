/**
 * Verifying API tokens on the inference server, which has no database: it asks the registry
 * (AuthService.WhoAmI with the presented token, over the generated client at REGISTRY_URL) and
 * keeps the answer in a bounded cache keyed by the token's SHA-256, so that a busy server asks
 * once per token per TTL. A revoked token therefore keeps working for at most the TTL
 * (INFERENCE_AUTH_CACHE_TTL_MS); a refused token is remembered for a shorter time, so a client
 * hammering with a bad token costs the registry little. A registry that cannot be reached is
 * AUTH_VERIFIER_UNAVAILABLE (UNAVAILABLE), never a 401, and is not cached. Each process of a
 * node:cluster server has its own cache.
 */
import { type Client, Code as ConnectCode, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { hashApiToken } from "../../auth/api-token.js";
import type { Identity } from "../../auth/identity.js";
import type { TokenVerifier } from "../../auth/token-verifier.js";
import { authErrors, Code, MlpipeError } from "../../core/errors/index.js";
import { AuthMethod, AuthService } from "../../gen/mlpipe/auth/v1/auth_pb.js";
import { ErrorDetailSchema } from "../../gen/mlpipe/common/v1/error_pb.js";

/** Options of {@link createRegistryTokenVerifier}. */
export interface RegistryTokenVerifierOptions {
  /** The registry's base URL (REGISTRY_URL). */
  readonly url: string;
  /** How long a verified token is trusted without asking again, in ms (INFERENCE_AUTH_CACHE_TTL_MS, default 30 000). */
  readonly ttlMs?: number | undefined;
  /** How long a refused token is remembered, in ms (default min(5 000, ttlMs)). */
  readonly failureTtlMs?: number | undefined;
  /** Most tokens remembered at once (default 10 000); the oldest entry goes first. */
  readonly maxEntries?: number | undefined;
  /** Longest wait for the registry's answer, in ms (default 5 000). */
  readonly timeoutMs?: number | undefined;
  /** The clock, in ms since the epoch (tests). */
  readonly now?: (() => number) | undefined;
}

/** A TokenVerifier that owns a connection to the registry. */
export interface RegistryTokenVerifier extends TokenVerifier {
  /** Closes the connection to the registry. */
  close(): void;
}

interface Entry {
  readonly until: number;
  readonly answer: Promise<Identity>;
}

/** Creates the verifier; the connection opens on the first token and reopens after failures. */
export function createRegistryTokenVerifier(options: RegistryTokenVerifierOptions): RegistryTokenVerifier {
  const ttlMs = options.ttlMs ?? 30_000;
  const failureTtlMs = options.failureTtlMs ?? Math.min(5_000, ttlMs);
  const maxEntries = options.maxEntries ?? 10_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const now = options.now ?? Date.now;
  const sessions = new Http2SessionManager(options.url, { pingIntervalMs: 15_000, pingTimeoutMs: 10_000 });
  const client: Client<typeof AuthService> = createClient(
    AuthService,
    createGrpcTransport({ baseUrl: options.url, sessionManager: sessions }),
  );
  const cache = new Map<string, Entry>();

  const remember = (key: string, until: number, answer: Promise<Identity>): void => {
    cache.delete(key);
    if (cache.size >= maxEntries) {
      const oldest = cache.keys().next();
      if (oldest.done !== true) cache.delete(oldest.value);
    }
    cache.set(key, { until, answer });
  };

  const ask = async (token: string): Promise<Identity> => {
    try {
      const who = await client.whoAmI(
        {},
        { headers: { authorization: `Bearer ${token}` }, timeoutMs, signal: AbortSignal.timeout(timeoutMs) },
      );
      const expiresAt = who.expireTime === 0n ? undefined : Number(who.expireTime);
      return {
        principal: who.principal,
        method: who.method === AuthMethod.OIDC ? "oidc" : "token",
        ...(who.tokenId === "" ? {} : { tokenId: who.tokenId }),
        ...(expiresAt === undefined ? {} : { expiresAt }),
      };
    } catch (err) {
      const connectError = ConnectError.from(err);
      if (connectError.code === ConnectCode.Unauthenticated) {
        const id = connectError.findDetails(ErrorDetailSchema)[0]?.id;
        throw new MlpipeError(Code.Unauthenticated, id ?? authErrors.invalidToken.id, connectError.rawMessage);
      }
      throw authErrors.verifierUnavailable(`the registry at ${options.url}`, err);
    }
  };

  return {
    verify(token) {
      if (token.length > 4096) return Promise.reject(authErrors.invalidToken("too long"));
      const key = hashApiToken(token);
      const at = now();
      const cached = cache.get(key);
      if (cached !== undefined && cached.until > at) {
        return cached.answer.then((identity) => {
          if (identity.expiresAt !== undefined && identity.expiresAt <= now()) {
            throw authErrors.tokenExpired(new Date(identity.expiresAt).toISOString());
          }
          return identity;
        });
      }
      const answer = ask(token);
      // Concurrent requests with the same token share the one question in flight.
      remember(key, at + ttlMs, answer);
      answer.then(
        () => undefined,
        (err: unknown) => {
          // A refusal is remembered briefly; an unreachable registry is asked again next time.
          if (err instanceof MlpipeError && err.code === Code.Unauthenticated) {
            remember(key, now() + failureTtlMs, answer);
          } else if (cache.get(key)?.answer === answer) cache.delete(key);
        },
      );
      return answer;
    },
    close: () => sessions.abort(),
  };
}
