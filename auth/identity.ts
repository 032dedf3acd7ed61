import { hasControlCharacters } from "../core/validation/text.js";

/**
 * Who a request is from, once its credentials are verified: the same shape whichever way it was
 * authenticated (API token, OIDC JWT, TLS client certificate) and on every surface.
 */

/** How an identity was authenticated. */
export type AuthMethodName = "token" | "oidc" | "mtls";

/** An authenticated caller. */
export interface Identity {
  /**
   * The principal: a token's owner, the OIDC username claim, or a client certificate's CN.
   * Grants and the audit log name it.
   */
  readonly principal: string;
  readonly method: AuthMethodName;
  /** The API token's public id (method "token"). */
  readonly tokenId?: string;
  /** When the credentials stop being valid, in ms since the epoch; undefined: never. */
  readonly expiresAt?: number;
}

/** Longest principal name, in characters. */
export const maxPrincipalLength = 256;

/**
 * Why a principal name is unusable, or undefined: 1 to 256 characters, no control characters and
 * no surrounding spaces, so it reads the same in grants, logs and the audit trail.
 */
export function principalProblem(name: string): string | undefined {
  if (name === "") return "must not be empty";
  if (name.length > maxPrincipalLength) return `must be at most ${maxPrincipalLength} characters`;
  if (name.trim() !== name) return "must not start or end with spaces";
  if (hasControlCharacters(name)) return "must not contain control characters";
  return undefined;
}
