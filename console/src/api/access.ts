/**
 * Who uses the console: the one place authentication plugs in. Without authentication on the
 * registry, {@link openAccess} sends no token and requests name the actor "console" (the
 * registry's audit log records it). Signed in (api/console-session.ts), every request carries
 * `Authorization: Bearer <token>`: the Connect-Web clients (RPCs, the Watch stream, artifact
 * downloads) through the interceptor below, the Serving proxy's plain fetches through
 * {@link accessHeaders}. What the user may do is asked per model (components/allowed.tsx).
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** The signed-in user's credentials. */
export interface ConsoleAccess {
  /** Bearer token sent with every request; undefined when the registry has no authentication. */
  readonly token: string | undefined;
}

/** The audit log's actor for changes made from the console without a token. */
export const consoleActor = "console";

/** No token: the registry without authentication. */
export const openAccess: ConsoleAccess = { token: undefined };

/** The headers every request of the console carries for `access`. */
export function accessHeaders(access: ConsoleAccess): Record<string, string> {
  return access.token === undefined ? { "mlpipe-actor": consoleActor } : { authorization: `Bearer ${access.token}` };
}

/**
 * A Connect interceptor adding {@link accessHeaders} of the current access to every call, and
 * calling `onUnauthenticated` when the registry refuses the credentials (a revoked or expired
 * token, or authentication turned on). A call that brings its own Authorization header (the
 * sign-in form's check of a pasted token) is left as it is and reports nothing.
 */
export function createAccessInterceptor(access: () => ConsoleAccess, onUnauthenticated: () => void): Interceptor {
  return (next) => async (req) => {
    const ownCredentials = req.header.has("authorization");
    if (!ownCredentials) {
      for (const [name, value] of Object.entries(accessHeaders(access()))) req.header.set(name, value);
    }
    try {
      return await next(req);
    } catch (err) {
      if (!ownCredentials && err instanceof ConnectError && err.code === Code.Unauthenticated) onUnauthenticated();
      throw err;
    }
  };
}
