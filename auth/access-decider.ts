/**
 * Policy decisions, in one place: what permission a principal holds on resources and whether it
 * suffices. A principal's permission on a resource is, in order: MANAGE when it is an
 * administrator, its grant on the resource, its grant on every resource of the kind ("*"), else
 * the deployment's default permission (AUTH_DEFAULT_PERMISSION), as in MLflow's auth.
 */
import { authErrors } from "../core/errors/index.js";
import { type AuthStore, everyResource, type GrantKind } from "./auth-store.js";
import type { Identity } from "./identity.js";
import { type PermissionLevel, permits } from "./permission.js";

/** Options of {@link createAccessDecider}. */
export interface AccessDeciderOptions {
  readonly store: AuthStore;
  /** The permission of a principal on a resource it has no grant on (kind-wide or own). */
  readonly defaultPermission: PermissionLevel;
}

/** Answers and enforces permission questions. */
export interface AccessDecider {
  /** Each id's permission for the principal; ids empty: the kind-wide permission under `everyResource`. */
  permissions(principal: string, kind: GrantKind, ids: readonly string[]): Promise<Map<string, PermissionLevel>>;
  /** PERMISSION_DENIED unless the identity holds `needed` on every id (on the kind as a whole when ids is empty). */
  require(identity: Identity, kind: GrantKind, ids: readonly string[], needed: PermissionLevel): Promise<void>;
  /** PERMISSION_DENIED unless the identity is an administrator. */
  requireAdmin(identity: Identity): Promise<void>;
}

/** Creates the decider over the auth store: one query per decision. */
export function createAccessDecider(options: AccessDeciderOptions): AccessDecider {
  const { store, defaultPermission } = options;
  const permissions: AccessDecider["permissions"] = async (principal, kind, ids) => {
    const asked = ids.length === 0 ? [everyResource] : [...new Set(ids)];
    const access = await store.principalAccess(principal, kind, [...asked, everyResource]);
    const kindWide = access.grants.get(everyResource) ?? defaultPermission;
    return new Map(
      asked.map((id): [string, PermissionLevel] => [id, access.admin ? "manage" : (access.grants.get(id) ?? kindWide)]),
    );
  };
  return {
    permissions,
    async require(identity, kind, ids, needed) {
      const held = await permissions(identity.principal, kind, ids);
      for (const [id, level] of held) {
        if (!permits(level, needed)) {
          const what = id === everyResource ? `${kind.replace("_", " ")}s` : `${kind.replace("_", " ")} "${id}"`;
          throw authErrors.permissionDenied(identity.principal, `${needed.toUpperCase()} on ${what}`);
        }
      }
    },
    async requireAdmin(identity) {
      if (!(await store.isAdmin(identity.principal))) {
        throw authErrors.permissionDenied(identity.principal, "an administrator");
      }
    },
  };
}
