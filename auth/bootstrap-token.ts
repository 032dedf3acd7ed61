/**
 * The first administrator: an API token an operator puts in a file (AUTH_BOOTSTRAP_TOKEN_FILE,
 * e.g. a Kubernetes Secret) before the first start. At every start the token is made valid for
 * the principal "admin", who is an administrator, so the operator can create the other tokens
 * and grants with the CLI; replacing the file's content rotates it at the next start.
 */
import { hashApiToken, minBootstrapTokenLength } from "./api-token.js";
import type { AuthStore } from "./auth-store.js";

/** The principal the bootstrap token authenticates. */
export const bootstrapPrincipal = "admin";

/** The bootstrap token's fixed id (it appears in `mlpipe tokens list`). */
export const bootstrapTokenId = "bootstrap";

/** A bootstrap token file that cannot be used: too short or not printable. */
export class BootstrapTokenError extends Error {
  override readonly name = "BootstrapTokenError";
}

/** Installs the token read from the file (surrounding whitespace, e.g. a final newline, ignored). */
export async function installBootstrapToken(store: AuthStore, fileText: string): Promise<void> {
  const token = fileText.trim();
  if (token.length < minBootstrapTokenLength || !/^[!-~]+$/.test(token)) {
    throw new BootstrapTokenError(
      `the bootstrap token must be at least ${minBootstrapTokenLength} printable characters without spaces`,
    );
  }
  await store.putBootstrapToken(bootstrapTokenId, bootstrapPrincipal, hashApiToken(token));
}
