/**
 * Permissions as MLflow's auth defines them, each including the ones before it: none < read <
 * edit < manage. Grants store one per principal and resource; administrators are above all of
 * them and are not a permission (auth_admins).
 */
import { Permission } from "../gen/mlpipe/auth/v1/auth_pb.js";

/** A permission level, as stored in grants and written in configuration (AUTH_DEFAULT_PERMISSION). */
export type PermissionLevel = "none" | "read" | "edit" | "manage";

/** Every level, weakest first. */
export const permissionLevels: readonly PermissionLevel[] = ["none", "read", "edit", "manage"];

const rank: Record<PermissionLevel, number> = { none: 0, read: 1, edit: 2, manage: 3 };

/** True when `held` includes `needed`. */
export function permits(held: PermissionLevel, needed: PermissionLevel): boolean {
  return rank[held] >= rank[needed];
}

const fromProto: Partial<Record<Permission, PermissionLevel>> = {
  [Permission.NONE]: "none",
  [Permission.READ]: "read",
  [Permission.EDIT]: "edit",
  [Permission.MANAGE]: "manage",
};

const toProto: Record<PermissionLevel, Permission> = {
  none: Permission.NONE,
  read: Permission.READ,
  edit: Permission.EDIT,
  manage: Permission.MANAGE,
};

/** The level of a wire Permission; undefined for UNSPECIFIED or an unknown number. */
export function permissionFromProto(permission: Permission): PermissionLevel | undefined {
  return fromProto[permission];
}

/** The wire Permission of a level. */
export function permissionToProto(level: PermissionLevel): Permission {
  return toProto[level];
}

/** A stored level read back; anything else is a corrupt row, so it grants nothing. */
export function permissionFromText(text: string): PermissionLevel {
  return permissionLevels.find((level) => level === text) ?? "none";
}
