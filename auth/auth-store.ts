/**
 * What authentication and authorization keep: API tokens by the hash of their secret, grants of a
 * permission per principal and resource, and administrators. One implementation over the shared
 * SQL client (sql-auth-store.ts); the registry process owns it, inference servers ask the
 * registry (AuthService.WhoAmI) instead.
 */
import type { PermissionLevel } from "./permission.js";

/** The kinds of resource a grant is on (runs and model versions go with their experiment and model). */
export type GrantKind = "experiment" | "registered_model";

/** The id of a grant on every resource of its kind. */
export const everyResource = "*";

/** An API token as stored (never its secret). */
export interface TokenRecord {
  readonly tokenId: string;
  readonly principal: string;
  readonly description: string;
  readonly creationTime: number;
  readonly expireTime: number | undefined;
  readonly lastUsedTime: number | undefined;
  readonly revokeTime: number | undefined;
  readonly createdBy: string;
}

/** A new token's row. */
export interface NewTokenRecord {
  readonly tokenId: string;
  readonly principal: string;
  readonly secretSha256: string;
  readonly description: string;
  readonly expireTime: number | undefined;
  readonly createdBy: string;
}

/** A principal's permission on one resource, or on every resource of a kind (`everyResource`). */
export interface GrantRecord {
  readonly principal: string;
  readonly kind: GrantKind;
  readonly resourceId: string;
  readonly permission: PermissionLevel;
}

/** What one principal holds that bears on a decision: the administrator flag and its grants. */
export interface PrincipalAccess {
  readonly admin: boolean;
  /** Resource id (or `everyResource`) -> permission, for the kind and ids asked about. */
  readonly grants: ReadonlyMap<string, PermissionLevel>;
}

/** The store of tokens, grants and administrators. */
export interface AuthStore {
  createToken(token: NewTokenRecord): Promise<TokenRecord>;
  /** The token whose secret hashes to `sha256`, revoked or expired ones included; undefined if none. */
  findToken(sha256: string): Promise<TokenRecord | undefined>;
  /** Tokens, newest first; of one principal when given. */
  listTokens(principal: string | undefined, includeRevoked: boolean): Promise<TokenRecord[]>;
  /** Revokes a token (a revoked one stays revoked at its first time); false when no token has the id. */
  revokeToken(tokenId: string, time: number): Promise<boolean>;
  /** Records a use of the token. */
  touchToken(tokenId: string, time: number): Promise<void>;
  /**
   * Makes the token with id `tokenId` authenticate `principal` with this secret hash, unrevoked and
   * without expiry, and the principal an administrator: the bootstrap token, idempotent.
   */
  putBootstrapToken(tokenId: string, principal: string, secretSha256: string): Promise<void>;

  /**
   * Whether `principal` is an administrator, and its grants of `kind` on `ids` (which should hold
   * `everyResource` to see the kind-wide grant); `ids` undefined: every grant of the kind.
   */
  principalAccess(principal: string, kind: GrantKind, ids: readonly string[] | undefined): Promise<PrincipalAccess>;
  isAdmin(principal: string): Promise<boolean>;
  setAdmin(principal: string, admin: boolean): Promise<void>;
  listAdmins(): Promise<string[]>;
  /** Creates or replaces a grant. */
  setGrant(grant: GrantRecord): Promise<void>;
  /** False when there was no such grant. */
  deleteGrant(principal: string, kind: GrantKind, resourceId: string): Promise<boolean>;
  /** Grants matching the filter, by principal, kind and resource. */
  listGrants(filter: { principal?: string; kind?: GrantKind; resourceId?: string }): Promise<GrantRecord[]>;
  /** Moves every grant on a resource to its new id (a renamed registered model). */
  renameResource(kind: GrantKind, from: string, to: string): Promise<void>;
  /** Removes every grant on a resource that no longer exists. */
  deleteResource(kind: GrantKind, resourceId: string): Promise<void>;
}
