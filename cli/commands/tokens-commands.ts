/**
 * `mlpipe tokens create|list|revoke` and `mlpipe grants set`: API tokens and permissions of a
 * registry with REGISTRY_AUTH=token, over its AuthService. They need an administrator's token in
 * MLPIPE_TOKEN (the bootstrap token of AUTH_BOOTSTRAP_TOKEN_FILE, at first).
 */
import { toJson } from "@bufbuild/protobuf";
import { commonErrors } from "../../core/errors/index.js";
import { Permission, TokenInfoSchema } from "../../gen/mlpipe/auth/v1/auth_pb.js";
import { ResourceKind } from "../../gen/mlpipe/auth/v1/policy_pb.js";
import { createCliAuthClient } from "../cli-client.js";
import type { Command } from "../command.js";
import { formatTime } from "../display-values.js";
import { writeJson } from "../output.js";
import { renderTable } from "../table.js";

/** `tokens create <principal>`: prints the secret once. */
export const tokensCreateCommand: Command = {
  name: "tokens create",
  section: "Access",
  summary: "create an API token for a principal (printed once; only its hash is stored)",
  arguments: [{ name: "principal", description: "who the token authenticates as, e.g. ci-bot" }],
  options: {
    description: { type: "string", valueName: "TEXT", description: "what the token is for" },
    "expires-in-days": { type: "string", valueName: "N", description: "the token stops working after N days" },
  },
  examples: ["tokens create ci-bot --description 'nightly training' --expires-in-days 90"],
  async run({ io, args, json, registryUrl }) {
    const [principal = ""] = args.positionals;
    const days = args.string("expires-in-days");
    if (days !== undefined && !/^[1-9]\d{0,4}$/.test(days)) {
      throw commonErrors.invalidArgument("expires-in-days", "must be a whole number of days from 1 to 99999");
    }
    const expireTime = days === undefined ? 0n : BigInt(Date.now() + Number(days) * 86_400_000);
    const auth = createCliAuthClient(registryUrl(), io.env);
    const r = await auth.createToken({ principal, description: args.string("description") ?? "", expireTime });
    if (json) writeJson(io, { token: r.token, info: r.info === undefined ? null : toJson(TokenInfoSchema, r.info) });
    else io.stdout.write(`${r.token}\n`);
    return undefined;
  },
};

/** `tokens list`. */
export const tokensListCommand: Command = {
  name: "tokens list",
  section: "Access",
  summary: "list API tokens (never their secrets), newest first",
  arguments: [],
  options: {
    principal: { type: "string", valueName: "NAME", description: "only this principal's tokens" },
    all: { type: "boolean", description: "include revoked tokens" },
  },
  async run({ io, args, json, registryUrl }) {
    const auth = createCliAuthClient(registryUrl(), io.env);
    const r = await auth.listTokens({ principal: args.string("principal") ?? "", includeRevoked: args.boolean("all") });
    if (json) {
      writeJson(io, { tokens: r.tokens.map((t) => toJson(TokenInfoSchema, t)) });
      return undefined;
    }
    const rows = r.tokens.map((t) => [
      t.tokenId,
      t.principal,
      formatTime(t.creationTime),
      formatTime(t.expireTime),
      formatTime(t.lastUsedTime),
      t.revokeTime === 0n ? "" : "revoked",
      t.description,
    ]);
    io.stdout.write(renderTable(["ID", "PRINCIPAL", "CREATED", "EXPIRES", "LAST USED", "STATE", "DESCRIPTION"], rows));
    return undefined;
  },
};

/** `tokens revoke <id>`. */
export const tokensRevokeCommand: Command = {
  name: "tokens revoke",
  section: "Access",
  summary: "revoke an API token at once",
  arguments: [{ name: "id", description: "the token id (tokens list)" }],
  options: {},
  async run({ io, args, json, registryUrl }) {
    const [tokenId = ""] = args.positionals;
    await createCliAuthClient(registryUrl(), io.env).revokeToken({ tokenId });
    if (json) writeJson(io, { tokenId, revoked: true });
    else io.stdout.write(`revoked ${tokenId}\n`);
    return undefined;
  },
};

const permissions: Record<string, Permission> = {
  none: Permission.NONE,
  read: Permission.READ,
  edit: Permission.EDIT,
  manage: Permission.MANAGE,
};

const kinds: Record<string, ResourceKind> = {
  experiment: ResourceKind.EXPERIMENT,
  model: ResourceKind.REGISTERED_MODEL,
};

/** `grants set <principal> <experiment|model> <id|*> <permission>`. */
export const grantsSetCommand: Command = {
  name: "grants set",
  section: "Access",
  summary: "give a principal a permission (none, read, edit, manage) on an experiment or model",
  arguments: [
    { name: "principal", description: "a token's principal" },
    { name: "kind", description: "experiment or model" },
    { name: "id", description: "experiment id or model name; * for all of the kind" },
    { name: "permission", description: "none, read, edit or manage" },
  ],
  options: {},
  examples: ["grants set ci-bot experiment '*' edit", "grants set analyst model iris-classifier read"],
  async run({ io, args, json, registryUrl }) {
    const [principal = "", kindText = "", resourceId = "", permissionText = ""] = args.positionals;
    const resourceKind = kinds[kindText.toLowerCase()];
    if (resourceKind === undefined) throw commonErrors.invalidArgument("kind", "must be experiment or model");
    const permission = permissions[permissionText.toLowerCase()];
    if (permission === undefined)
      throw commonErrors.invalidArgument("permission", "must be none, read, edit or manage");
    await createCliAuthClient(registryUrl(), io.env).setGrant({
      grant: { principal, resourceKind, resourceId, permission },
    });
    if (json) writeJson(io, { principal, kind: kindText, id: resourceId, permission: permissionText.toLowerCase() });
    else io.stdout.write(`${principal}: ${permissionText.toLowerCase()} on ${kindText} ${resourceId}\n`);
    return undefined;
  },
};
