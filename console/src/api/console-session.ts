/**
 * The console's sign-in state. At start the registry is asked WhoAmI (with the token kept from
 * earlier in this tab, if any): UNAUTHENTICATED means authentication is on and a token is needed,
 * any other failure (the AuthService is not served without authentication) means it is off and
 * nothing changes. A token is verified with WhoAmI before it is kept.
 *
 * The token is kept in sessionStorage, not localStorage: it lives only as long as the tab (a token
 * pasted on a shared machine does not outlive closing it) and is not shared with other tabs or
 * left on disk for months; reloading the page keeps the user signed in.
 */
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { AuthService } from "../../../gen/mlpipe/auth/v1/auth_pb.js";
import { type ConsoleAccess, openAccess } from "./access.js";

/** Where the session is. */
export type SessionState =
  | { readonly kind: "checking" }
  /** The registry has no authentication: no sign-in, everything shown. */
  | { readonly kind: "open" }
  | { readonly kind: "signed-in"; readonly token: string; readonly principal: string; readonly admin: boolean }
  /** A token is needed; `notice` says why the previous one no longer works. */
  | { readonly kind: "signed-out"; readonly notice?: string };

/** The session: its state (for React's useSyncExternalStore) and what changes it. */
export interface ConsoleSession {
  get(): SessionState;
  subscribe(listener: () => void): () => void;
  /** The credentials requests carry now. */
  access(): ConsoleAccess;
  /** Asks the registry whether authentication is on and whether the kept token still works. */
  start(auth: Client<typeof AuthService>): Promise<void>;
  /** Verifies `token` with WhoAmI and keeps it; rejects with the registry's error otherwise. */
  signIn(auth: Client<typeof AuthService>, token: string): Promise<void>;
  /** Forgets the token; `notice` is shown above the sign-in form. */
  signOut(notice?: string): void;
  /** The registry refused the credentials of a request. */
  refused(): void;
}

const storageKey = "mlpipe.console.token";

/** The browser's sessionStorage, or nothing where it is unavailable (storage disabled). */
function storage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
}

/** Creates the session, starting from the token kept in this tab, if any. */
export function createConsoleSession(): ConsoleSession {
  let state: SessionState = { kind: "checking" };
  const listeners = new Set<() => void>();
  let kept = storage()?.getItem(storageKey) ?? undefined;
  const set = (next: SessionState) => {
    state = next;
    for (const listener of listeners) listener();
  };
  const keep = (token: string | undefined) => {
    kept = token;
    if (token === undefined) storage()?.removeItem(storageKey);
    else storage()?.setItem(storageKey, token);
  };
  const signOut = (notice?: string) => {
    keep(undefined);
    set(notice === undefined ? { kind: "signed-out" } : { kind: "signed-out", notice });
  };
  return {
    get: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    access: () => (state.kind === "open" ? openAccess : { token: kept }),
    async start(auth) {
      const token = kept;
      try {
        const me = await auth.whoAmI({}, token === undefined ? {} : { headers: bearer(token) });
        if (token !== undefined) set({ kind: "signed-in", token, principal: me.principal, admin: me.admin });
        // Authentication on but the anonymous call let through cannot happen (WhoAmI needs an identity).
        else set({ kind: "open" });
      } catch (err) {
        if (err instanceof ConnectError && err.code === Code.Unauthenticated) {
          signOut(
            token === undefined ? undefined : "Your token is no longer accepted (revoked or expired): sign in again.",
          );
        } else set({ kind: "open" });
      }
    },
    async signIn(auth, token) {
      const me = await auth.whoAmI({}, { headers: bearer(token) });
      keep(token);
      set({ kind: "signed-in", token, principal: me.principal, admin: me.admin });
    },
    signOut,
    refused() {
      if (state.kind === "signed-out") return;
      if (state.kind === "checking") return signOut();
      signOut(
        state.kind === "signed-in"
          ? "Your token is no longer accepted (revoked or expired): sign in again."
          : "The registry now requires a token: sign in.",
      );
    },
  };
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
