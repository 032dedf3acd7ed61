/**
 * Who uses the console and what they may do: the one place authentication plugs in. Today the APIs
 * have no authentication, so {@link openAccess} allows everything and requests name the actor
 * "console" (the registry's audit log records it). When API tokens exist, a login form stores the
 * token in a {@link ConsoleAccess} whose `can` reads the token's permissions: every request then
 * carries `Authorization: Bearer <token>` (the interceptor below, also used for the Serving proxy's
 * plain fetches) and every action button is hidden by its `can` check (components/allowed.tsx).
 */
import type { Interceptor } from "@connectrpc/connect";

/** The actions of the console that change something; a permission check names one. */
export type ConsoleAction = "registry.stage" | "registry.alias";

/** The signed-in user's credentials and permissions. */
export interface ConsoleAccess {
  /** Bearer token sent with every request; undefined while mlpipe has no authentication. */
  readonly token: string | undefined;
  /** Whether the user may take `action` (its button is hidden otherwise). */
  can(action: ConsoleAction): boolean;
}

/** The audit log's actor for changes made from the console without a token. */
export const consoleActor = "console";

/** Everything allowed, no token: what the APIs offer today. */
export const openAccess: ConsoleAccess = { token: undefined, can: () => true };

/** The headers every request of the console carries for `access`. */
export function accessHeaders(access: ConsoleAccess): Record<string, string> {
  return access.token === undefined ? { "mlpipe-actor": consoleActor } : { authorization: `Bearer ${access.token}` };
}

/** A Connect interceptor adding {@link accessHeaders} of the current access to every call. */
export function createAccessInterceptor(access: () => ConsoleAccess): Interceptor {
  return (next) => (req) => {
    for (const [name, value] of Object.entries(accessHeaders(access()))) req.header.set(name, value);
    return next(req);
  };
}
