/**
 * Stages and aliases over SQL: transitions (serialized per model by its row lock, so concurrent
 * promotions end with one version in the target stage), the latest version per stage, and
 * aliases; each change with its audit event. Part of the registry store (sql-registry-store.ts).
 */
import { registryErrors } from "../core/errors/registry-errors.js";
import type { SqlClient } from "../storage/sql/sql-client.js";
import type { StageStore } from "./registry-store.js";
import { recordEvent } from "./sql-registry-events.js";
import {
  modelRow,
  placeholders,
  touchModel,
  type VersionRow,
  versionColumns,
  versionFrom,
  versionOf,
  versionRow,
  versionsFromRows,
} from "./sql-registry-rows.js";
import { checkAliasesUnrouted } from "./sql-route-aliases.js";
import { type StageName, stageName } from "./stage-names.js";

/** The stages-and-aliases aggregate of the registry store, over a migrated database. */
export function createSqlStageStore(db: SqlClient): StageStore {
  return {
    transitionStage(name, version, stage, archiveExisting, actor) {
      const target = stageName(stage);
      return db.transaction(async (tx) => {
        // The model's row lock serializes every transition of the model: a concurrent promotion
        // waits here, then sees this one's committed result and archives it.
        const model = await modelRow(tx, name, "update");
        const row = await versionRow(tx, model, version);
        if (row.status !== "READY") throw registryErrors.versionNotReady(model.name, version, row.status);
        if (row.current_stage === target) return versionOf(tx, model, version);
        const now = Date.now();
        if (archiveExisting && (target === "Staging" || target === "Production")) {
          // Archive first, so the event log never shows two versions in the target stage.
          const archived = await tx.query<{ version: string }>(
            `UPDATE model_versions SET current_stage = 'Archived', last_updated_time = $4
              WHERE model_id = $1 AND current_stage = $2 AND version <> $3 RETURNING version`,
            [model.model_id, target, version, now],
          );
          const numbers = archived.rows.map((r) => BigInt(r.version)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          for (const other of numbers) {
            await recordEvent(tx, model.model_id, model.name, actor, {
              type: "STAGE_CHANGED",
              version: other,
              fromStage: target,
              toStage: "Archived",
            });
          }
        }
        await tx.query(
          "UPDATE model_versions SET current_stage = $3, last_updated_time = $4 WHERE model_id = $1 AND version = $2",
          [model.model_id, version, target, now],
        );
        await recordEvent(tx, model.model_id, model.name, actor, {
          type: "STAGE_CHANGED",
          version,
          fromStage: row.current_stage as StageName,
          toStage: target,
        });
        await touchModel(tx, model.model_id, now);
        return versionOf(tx, model, version);
      });
    },

    getLatestVersions(name, stages) {
      return db.transaction(async (tx) => {
        const model = await modelRow(tx, name);
        const params: unknown[] = [model.model_id];
        const names = stages.map(stageName);
        const rows = await tx.query<VersionRow>(
          `SELECT DISTINCT ON (v.current_stage) ${versionColumns}
             FROM ${versionFrom}
            WHERE v.model_id = $1 AND v.current_stage IN (${placeholders(names, params)})
            ORDER BY v.current_stage, v.version DESC`,
          params,
        );
        const versions = await versionsFromRows(tx, rows.rows);
        return names.flatMap((n) => versions.filter((v) => stageName(v.currentStage) === n));
      });
    },

    async setAlias(name, alias, version, actor) {
      await db.transaction(async (tx) => {
        const model = await modelRow(tx, name, "update");
        const row = await versionRow(tx, model, version);
        if (row.status !== "READY") throw registryErrors.versionNotReady(model.name, version, row.status);
        const before = await aliasVersion(tx, model.model_id, alias);
        if (before !== undefined && BigInt(before) === version) return;
        await tx.query(
          `INSERT INTO registered_model_aliases (model_id, alias, version) VALUES ($1, $2, $3)
           ON CONFLICT (model_id, alias) DO UPDATE SET version = EXCLUDED.version`,
          [model.model_id, alias, version],
        );
        await recordEvent(tx, model.model_id, model.name, actor, {
          type: "ALIAS_SET",
          alias,
          fromVersion: before === undefined ? 0n : BigInt(before),
          toVersion: version,
        });
        await touchModel(tx, model.model_id);
      });
    },

    async deleteAlias(name, alias, actor) {
      await db.transaction(async (tx) => {
        const model = await modelRow(tx, name, "update");
        await checkAliasesUnrouted(tx, model, [alias], "alias");
        const deleted = await tx.query<{ version: string }>(
          "DELETE FROM registered_model_aliases WHERE model_id = $1 AND alias = $2 RETURNING version",
          [model.model_id, alias],
        );
        const before = deleted.rows[0]?.version;
        if (before === undefined) throw registryErrors.aliasNotFound(model.name, alias);
        await recordEvent(tx, model.model_id, model.name, actor, {
          type: "ALIAS_DELETED",
          alias,
          fromVersion: BigInt(before),
        });
        await touchModel(tx, model.model_id);
      });
    },

    getVersionByAlias(name, alias) {
      return db.transaction(async (tx) => {
        const model = await modelRow(tx, name);
        const version = await aliasVersion(tx, model.model_id, alias);
        if (version === undefined) throw registryErrors.aliasNotFound(model.name, alias);
        return versionOf(tx, model, BigInt(version));
      });
    },
  };
}

/** The version number an alias of the model points at (decimal text), or undefined. */
async function aliasVersion(tx: Pick<SqlClient, "query">, modelId: string, alias: string): Promise<string | undefined> {
  const found = await tx.query<{ version: string }>(
    "SELECT version FROM registered_model_aliases WHERE model_id = $1 AND alias = $2",
    [modelId, alias],
  );
  return found.rows[0]?.version;
}
