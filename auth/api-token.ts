/**
 * API token secrets: 256 random bits, shown once to whoever created the token, stored only as
 * their SHA-256. A presented token is looked up by its hash, so no comparison of secrets ever
 * happens (nothing to time), and the database never holds a usable credential.
 */
import { createHash, randomBytes } from "node:crypto";

/** Prefix of the tokens mlpipe makes, so a leaked one is recognisable (secret scanners). */
export const apiTokenPrefix = "mlp_";

/** Shortest bootstrap token accepted from AUTH_BOOTSTRAP_TOKEN_FILE, in characters. */
export const minBootstrapTokenLength = 32;

/** A new token: its secret (shown once), its public id and the hash that is stored. */
export interface NewApiToken {
  /** `mlp_` + 43 base64url characters. */
  readonly secret: string;
  /** 16 hex characters, for listing and revoking. */
  readonly tokenId: string;
  readonly sha256: string;
}

/** Makes a token from 32 random bytes (256 bits). */
export function generateApiToken(): NewApiToken {
  const secret = `${apiTokenPrefix}${randomBytes(32).toString("base64url")}`;
  return { secret, tokenId: randomBytes(8).toString("hex"), sha256: hashApiToken(secret) };
}

/** Lower-case hex SHA-256 of a presented token string, the key it is stored and looked up by. */
export function hashApiToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}
