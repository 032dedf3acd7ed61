/** The AuthStore over the shared SQL client (tables of storage/sql/migrations/0020_auth.sql). */

import { singleRow } from "../storage/sql/single-row.js";
import type { SqlClient } from "../storage/sql/sql-client.js";
import type { AuthStore, GrantKind, GrantRecord, TokenRecord } from "./auth-store.js";
import { type PermissionLevel, permissionFromText } from "./permission.js";

interface TokenRow {
  token_id: string;
  principal: string;
  description: string;
  creation_time: string | number;
  expire_time: string | number | null;
  last_used_time: string | number | null;
  revoke_time: string | number | null;
  created_by: string;
}

interface GrantRow {
  principal: string;
  resource_kind: GrantKind;
  resource_id: string;
  permission: string;
}

const tokenColumns =
  "token_id, principal, description, creation_time, expire_time, last_used_time, revoke_time, created_by";

/** BIGINT columns come back as strings from pg and as numbers from PGlite. */
function time(value: string | number | null): number | undefined {
  return value === null ? undefined : Number(value);
}

function tokenOf(row: TokenRow): TokenRecord {
  return {
    tokenId: row.token_id,
    principal: row.principal,
    description: row.description,
    creationTime: Number(row.creation_time),
    expireTime: time(row.expire_time),
    lastUsedTime: time(row.last_used_time),
    revokeTime: time(row.revoke_time),
    createdBy: row.created_by,
  };
}

function grantOf(row: GrantRow): GrantRecord {
  return {
    principal: row.principal,
    kind: row.resource_kind,
    resourceId: row.resource_id,
    permission: permissionFromText(row.permission),
  };
}

/** Creates the store; the schema is migrated by openSqlClient. */
export function createSqlAuthStore(sql: SqlClient): AuthStore {
  return {
    async createToken(t) {
      const { rows } = await sql.query<TokenRow>(
        `INSERT INTO auth_tokens (token_id, principal, secret_sha256, description, creation_time, expire_time, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${tokenColumns}`,
        [t.tokenId, t.principal, t.secretSha256, t.description, Date.now(), t.expireTime ?? null, t.createdBy],
      );
      return tokenOf(singleRow(rows));
    },

    async findToken(sha256) {
      const { rows } = await sql.query<TokenRow>(`SELECT ${tokenColumns} FROM auth_tokens WHERE secret_sha256 = $1`, [
        sha256,
      ]);
      const row = rows[0];
      return row === undefined ? undefined : tokenOf(row);
    },

    async listTokens(principal, includeRevoked) {
      const { rows } = await sql.query<TokenRow>(
        `SELECT ${tokenColumns} FROM auth_tokens
         WHERE ($1::text IS NULL OR principal = $1) AND ($2 OR revoke_time IS NULL)
         ORDER BY creation_time DESC, token_id`,
        [principal ?? null, includeRevoked],
      );
      return rows.map(tokenOf);
    },

    async revokeToken(tokenId, at) {
      const { affectedRows } = await sql.query(
        "UPDATE auth_tokens SET revoke_time = COALESCE(revoke_time, $2) WHERE token_id = $1",
        [tokenId, at],
      );
      return affectedRows > 0;
    },

    async touchToken(tokenId, at) {
      await sql.query("UPDATE auth_tokens SET last_used_time = $2 WHERE token_id = $1", [tokenId, at]);
    },

    async putBootstrapToken(tokenId, principal, secretSha256) {
      await sql.transaction(async (tx) => {
        const now = Date.now();
        // Another token row could hold the hash only if the same secret was issued twice; the
        // bootstrap row takes it over.
        await tx.query("DELETE FROM auth_tokens WHERE secret_sha256 = $1 AND token_id <> $2", [secretSha256, tokenId]);
        await tx.query(
          `INSERT INTO auth_tokens (token_id, principal, secret_sha256, description, creation_time, created_by)
           VALUES ($1, $2, $3, 'bootstrap administrator (AUTH_BOOTSTRAP_TOKEN_FILE)', $4, 'mlpipe')
           ON CONFLICT (token_id) DO UPDATE SET principal = EXCLUDED.principal,
             secret_sha256 = EXCLUDED.secret_sha256, expire_time = NULL, revoke_time = NULL`,
          [tokenId, principal, secretSha256, now],
        );
        await tx.query(
          "INSERT INTO auth_admins (principal, creation_time) VALUES ($1, $2) ON CONFLICT (principal) DO NOTHING",
          [principal, now],
        );
      });
    },

    async principalAccess(principal, kind, ids) {
      const { rows } = await sql.query<{ row_kind: string; resource_id: string; permission: string }>(
        `SELECT 'admin' AS row_kind, '' AS resource_id, '' AS permission FROM auth_admins WHERE principal = $1
         UNION ALL
         SELECT 'grant', resource_id, permission FROM auth_grants
         WHERE principal = $1 AND resource_kind = $2 AND ($3::text[] IS NULL OR resource_id = ANY($3::text[]))`,
        [principal, kind, ids === undefined ? null : [...ids]],
      );
      const grants = new Map<string, PermissionLevel>();
      let admin = false;
      for (const row of rows) {
        if (row.row_kind === "admin") admin = true;
        else grants.set(row.resource_id, permissionFromText(row.permission));
      }
      return { admin, grants };
    },

    async isAdmin(principal) {
      const { rows } = await sql.query("SELECT 1 FROM auth_admins WHERE principal = $1", [principal]);
      return rows.length > 0;
    },

    async setAdmin(principal, admin) {
      if (admin) {
        await sql.query(
          "INSERT INTO auth_admins (principal, creation_time) VALUES ($1, $2) ON CONFLICT (principal) DO NOTHING",
          [principal, Date.now()],
        );
      } else {
        await sql.query("DELETE FROM auth_admins WHERE principal = $1", [principal]);
      }
    },

    async listAdmins() {
      const { rows } = await sql.query<{ principal: string }>("SELECT principal FROM auth_admins ORDER BY principal");
      return rows.map((r) => r.principal);
    },

    async setGrant(g) {
      await sql.query(
        `INSERT INTO auth_grants (principal, resource_kind, resource_id, permission, update_time)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (principal, resource_kind, resource_id)
         DO UPDATE SET permission = EXCLUDED.permission, update_time = EXCLUDED.update_time`,
        [g.principal, g.kind, g.resourceId, g.permission, Date.now()],
      );
    },

    async deleteGrant(principal, kind, resourceId) {
      const { affectedRows } = await sql.query(
        "DELETE FROM auth_grants WHERE principal = $1 AND resource_kind = $2 AND resource_id = $3",
        [principal, kind, resourceId],
      );
      return affectedRows > 0;
    },

    async listGrants(filter) {
      const { rows } = await sql.query<GrantRow>(
        `SELECT principal, resource_kind, resource_id, permission FROM auth_grants
         WHERE ($1::text IS NULL OR principal = $1) AND ($2::text IS NULL OR resource_kind = $2)
           AND ($3::text IS NULL OR resource_id = $3)
         ORDER BY principal, resource_kind, resource_id`,
        [filter.principal ?? null, filter.kind ?? null, filter.resourceId ?? null],
      );
      return rows.map(grantOf);
    },

    async renameResource(kind, from, to) {
      await sql.transaction(async (tx) => {
        // Grants left on the new name (given before the model existed) give way to the model's own.
        await tx.query("DELETE FROM auth_grants WHERE resource_kind = $1 AND resource_id = $2", [kind, to]);
        await tx.query("UPDATE auth_grants SET resource_id = $3 WHERE resource_kind = $1 AND resource_id = $2", [
          kind,
          from,
          to,
        ]);
      });
    },

    async deleteResource(kind, resourceId) {
      await sql.query("DELETE FROM auth_grants WHERE resource_kind = $1 AND resource_id = $2", [kind, resourceId]);
    },
  };
}
