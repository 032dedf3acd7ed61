/**
 * AuthService: API tokens, grants and administrators over the auth store, and WhoAmI, which
 * inference servers call to verify the API tokens their clients present. Who may call each
 * method is its proto policy, enforced by guard-service.ts around this implementation.
 */
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { authErrors, commonErrors } from "../core/errors/index.js";
import { validateText } from "../core/validation/text.js";
import { AuthMethod, type AuthService, type TokenInfo } from "../gen/mlpipe/auth/v1/auth_pb.js";
import { ResourceKind } from "../gen/mlpipe/auth/v1/policy_pb.js";
import type { AccessDecider } from "./access-decider.js";
import { generateApiToken } from "./api-token.js";
import type { AuthStore, GrantKind, GrantRecord, TokenRecord } from "./auth-store.js";
import { everyResource } from "./auth-store.js";
import { type Identity, principalProblem } from "./identity.js";
import { identityOf } from "./identity-context.js";
import { type PermissionLevel, permissionFromProto, permissionToProto } from "./permission.js";

/** Options of {@link createAuthService}. */
export interface AuthServiceOptions {
  readonly store: AuthStore;
  /** Answers GetMyPermissions with the same decisions the guard enforces. */
  readonly decider: AccessDecider;
  /** What moving a version to Production needs (AUTH_PRODUCTION_PERMISSION), told by GetMyPermissions. */
  readonly productionPermission: PermissionLevel;
  /** The clock, in ms since the epoch (tests). */
  readonly now?: () => number;
}

/** Longest token description, in characters. */
const maxDescriptionLength = 1000;

/** Most resources one GetMyPermissions call asks about (a page of the console's lists). */
const maxPermissionIds = 100;

const methodOf: Record<Identity["method"], AuthMethod> = {
  token: AuthMethod.TOKEN,
  oidc: AuthMethod.OIDC,
  mtls: AuthMethod.MTLS,
};

function principal(value: string, field: string): string {
  const problem = principalProblem(value);
  if (problem !== undefined) throw commonErrors.invalidArgument(field, problem);
  return value;
}

function kindOf(kind: ResourceKind, field: string): GrantKind {
  if (kind === ResourceKind.EXPERIMENT) return "experiment";
  if (kind === ResourceKind.REGISTERED_MODEL) return "registered_model";
  throw commonErrors.invalidArgument(field, "must be RESOURCE_KIND_EXPERIMENT or RESOURCE_KIND_REGISTERED_MODEL");
}

function resourceId(value: string, field: string): string {
  return validateText(value, field, 1, 256);
}

function tokenInfo(t: TokenRecord): Omit<TokenInfo, "$typeName"> {
  return {
    tokenId: t.tokenId,
    principal: t.principal,
    description: t.description,
    creationTime: BigInt(t.creationTime),
    expireTime: BigInt(t.expireTime ?? 0),
    lastUsedTime: BigInt(t.lastUsedTime ?? 0),
    revokeTime: BigInt(t.revokeTime ?? 0),
    createdBy: t.createdBy,
  };
}

function grantOut(g: GrantRecord) {
  return {
    principal: g.principal,
    resourceKind: g.kind === "experiment" ? ResourceKind.EXPERIMENT : ResourceKind.REGISTERED_MODEL,
    resourceId: g.resourceId,
    permission: permissionToProto(g.permission),
  };
}

/** The caller; the guard has already refused calls without one. */
function caller(ctx: HandlerContext): Identity {
  const identity = identityOf(ctx.values);
  if (identity === undefined) throw authErrors.unauthenticated();
  return identity;
}

/** Creates the AuthService implementation (wrap it with guardService before serving it). */
export function createAuthService(options: AuthServiceOptions): ServiceImpl<typeof AuthService> {
  const { store, decider } = options;
  const now = options.now ?? Date.now;
  return {
    async whoAmI(_req, ctx) {
      const identity = caller(ctx);
      return {
        principal: identity.principal,
        method: methodOf[identity.method],
        admin: await store.isAdmin(identity.principal),
        tokenId: identity.tokenId ?? "",
        expireTime: BigInt(identity.expiresAt ?? 0),
      };
    },

    async getMyPermissions(req, ctx) {
      const kind = kindOf(req.resourceKind, "resource_kind");
      if (req.resourceIds.length === 0 || req.resourceIds.length > maxPermissionIds) {
        throw commonErrors.invalidArgument("resource_ids", `must name 1 to ${maxPermissionIds} resources`);
      }
      const ids = req.resourceIds.map((id, i) => resourceId(id, `resource_ids[${i}]`));
      const held = await decider.permissions(caller(ctx).principal, kind, ids);
      return {
        permissions: [...held].map(([id, level]) => ({ resourceId: id, permission: permissionToProto(level) })),
        productionPermission: permissionToProto(options.productionPermission),
      };
    },

    async createToken(req, ctx) {
      const owner = principal(req.principal, "principal");
      const description = validateText(req.description, "description", 0, maxDescriptionLength);
      const expireTime = req.expireTime === 0n ? undefined : Number(req.expireTime);
      if (expireTime !== undefined && (!Number.isSafeInteger(expireTime) || expireTime <= now())) {
        throw commonErrors.invalidArgument("expire_time", "must be in the future (ms since the epoch), or 0 for never");
      }
      const token = generateApiToken();
      const record = await store.createToken({
        tokenId: token.tokenId,
        principal: owner,
        secretSha256: token.sha256,
        description,
        expireTime,
        createdBy: caller(ctx).principal,
      });
      return { token: token.secret, info: tokenInfo(record) };
    },

    async listTokens(req) {
      const who = req.principal === "" ? undefined : principal(req.principal, "principal");
      return { tokens: (await store.listTokens(who, req.includeRevoked)).map(tokenInfo) };
    },

    async revokeToken(req) {
      if (!(await store.revokeToken(req.tokenId, now()))) throw authErrors.tokenNotFound(req.tokenId);
      return {};
    },

    async setGrant(req) {
      const grant = req.grant;
      if (grant === undefined) throw commonErrors.invalidArgument("grant", "is required");
      const permission = permissionFromProto(grant.permission);
      if (permission === undefined) throw commonErrors.invalidArgument("grant.permission", "is required");
      await store.setGrant({
        principal: principal(grant.principal, "grant.principal"),
        kind: kindOf(grant.resourceKind, "grant.resource_kind"),
        resourceId: resourceId(grant.resourceId, "grant.resource_id"),
        permission,
      });
      return {};
    },

    async deleteGrant(req) {
      const who = principal(req.principal, "principal");
      const kind = kindOf(req.resourceKind, "resource_kind");
      const id = resourceId(req.resourceId, "resource_id");
      if (!(await store.deleteGrant(who, kind, id))) {
        throw authErrors.grantNotFound(who, id === everyResource ? `every ${kind}` : `${kind} "${id}"`);
      }
      return {};
    },

    async listGrants(req) {
      const grants = await store.listGrants({
        ...(req.principal === "" ? {} : { principal: req.principal }),
        ...(req.resourceKind === ResourceKind.UNSPECIFIED ? {} : { kind: kindOf(req.resourceKind, "resource_kind") }),
        ...(req.resourceId === "" ? {} : { resourceId: req.resourceId }),
      });
      return { grants: grants.map(grantOut), admins: await store.listAdmins() };
    },

    async setAdmin(req, ctx) {
      const who = principal(req.principal, "principal");
      // An administrator cannot demote itself, so a deployment keeps at least the one making the call.
      if (!req.admin && who === caller(ctx).principal) {
        throw commonErrors.invalidArgument("principal", "an administrator cannot remove its own administrator role");
      }
      await store.setAdmin(who, req.admin);
      return {};
    },
  };
}
