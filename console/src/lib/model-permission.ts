/**
 * What the caller may do on a registered model, from AuthService.GetMyPermissions: the same rules
 * the registry's guard enforces (stages and aliases need EDIT; a move to Production needs
 * AUTH_PRODUCTION_PERMISSION instead), so a hidden button is one the server would refuse.
 */
import { Permission } from "../../../gen/mlpipe/auth/v1/auth_pb.js";
import { Stage } from "../../../gen/mlpipe/registry/v1/registry_pb.js";

/** The caller's permission on one model and what Production needs, as wire Permission values. */
export interface ModelPermission {
  readonly held: Permission;
  readonly production: Permission;
}

/** Everything allowed: the registry without authentication. */
export const unrestricted: ModelPermission = { held: Permission.MANAGE, production: Permission.MANAGE };

/** Nothing allowed: while the permissions are not known yet, or when asking failed. */
export const nothingAllowed: ModelPermission = { held: Permission.NONE, production: Permission.MANAGE };

/** The Permission enum is ordered NONE < READ < EDIT < MANAGE; UNSPECIFIED grants nothing. */
function includes(held: Permission, needed: Permission): boolean {
  return held !== Permission.UNSPECIFIED && held >= needed;
}

/** Whether the caller may move a version of the model to `stage`. */
export function mayMoveTo(permission: ModelPermission, stage: Stage): boolean {
  return includes(permission.held, stage === Stage.PRODUCTION ? permission.production : Permission.EDIT);
}

/** Whether the caller may set or delete the model's aliases. */
export function maySetAliases(permission: ModelPermission): boolean {
  return includes(permission.held, Permission.EDIT);
}
