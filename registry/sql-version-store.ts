/**
 * Model versions over SQL: create (numbered per model under the model's row lock), read, search,
 * describe, delete (with the aliases pointing at them), tags; each change with its audit event.
 * Part of the registry store (sql-registry-store.ts).
 */
import { toJsonString } from "@bufbuild/protobuf";
import { registryErrors } from "../core/errors/registry-errors.js";
import { ModelSignatureSchema } from "../gen/mlpipe/registry/v1/registry_pb.js";
import { singleRow } from "../storage/sql/single-row.js";
import type { SqlClient } from "../storage/sql/sql-client.js";
import { searchRegistryRows } from "./registry-search.js";
import type { VersionStore } from "./registry-store.js";
import { recordEvent } from "./sql-registry-events.js";
import {
  isForeignKeyViolation,
  modelRow,
  touchModel,
  type VersionRow,
  versionOf,
  versionRow,
  versionsFromRows,
} from "./sql-registry-rows.js";
import { checkAliasesUnrouted } from "./sql-route-aliases.js";
import { type StageName, statusName } from "./stage-names.js";
import { versionSearchSpec } from "./version-search-spec.js";

/** The model-versions aggregate of the registry store, over a migrated database. */
export function createSqlVersionStore(db: SqlClient): VersionStore {
  return {
    async createVersion(input, actor) {
      try {
        return await db.transaction(async (tx) => {
          const model = await modelRow(tx, input.name, "update");
          const now = Date.now();
          const numbered = await tx.query<{ last_version: string }>(
            `UPDATE registered_models SET last_version = last_version + 1, last_updated_time = $2
              WHERE model_id = $1 RETURNING last_version`,
            [model.model_id, now],
          );
          const version = singleRow(numbered.rows).last_version;
          await tx.query(
            `INSERT INTO model_versions (model_id, version, creation_time, last_updated_time, description, current_stage,
               source, run_id, status, status_message, artifact_size, artifact_sha256, storage_key, storage_uri,
               signature_json, created_by)
             VALUES ($1, $2, $3, $3, $4, 'None', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
            [
              model.model_id,
              version,
              now,
              input.description,
              input.source,
              input.runId,
              statusName(input.status),
              input.statusMessage,
              input.artifactSize,
              input.artifactSha256,
              input.storageKey,
              input.storageUri,
              input.signature === undefined ? "" : toJsonString(ModelSignatureSchema, input.signature),
              actor,
            ],
          );
          for (const [key, value] of Object.entries(input.tags)) {
            await tx.query("INSERT INTO model_version_tags (model_id, version, key, value) VALUES ($1, $2, $3, $4)", [
              model.model_id,
              version,
              key,
              value,
            ]);
          }
          await recordEvent(tx, model.model_id, model.name, actor, {
            type: "VERSION_CREATED",
            version: BigInt(version),
            toStage: "None",
          });
          return versionOf(tx, model, BigInt(version));
        });
      } catch (err) {
        if (isForeignKeyViolation(err)) throw registryErrors.modelNotFound(input.name);
        throw err;
      }
    },

    getVersion(name, version) {
      return db.transaction(async (tx) => versionOf(tx, await modelRow(tx, name), version));
    },

    getVersionArtifact(name, version) {
      return db.transaction(async (tx) => {
        const row = await versionRow(tx, await modelRow(tx, name), version);
        return { version: singleRow(await versionsFromRows(tx, [row])), storageKey: row.storage_key };
      });
    },

    async searchVersions(query) {
      const page = await searchRegistryRows<VersionRow>(db, versionSearchSpec, query);
      return { items: await versionsFromRows(db, page.items), nextPageToken: page.nextPageToken };
    },

    updateVersionDescription(name, version, description, actor) {
      return db.transaction(async (tx) => {
        const model = await modelRow(tx, name, "update");
        const row = await versionRow(tx, model, version);
        if (row.description === description) return versionOf(tx, model, version);
        await recordEvent(tx, model.model_id, model.name, actor, {
          type: "VERSION_UPDATED",
          version,
          key: "description",
          fromValue: row.description,
          toValue: description,
        });
        await tx.query(
          "UPDATE model_versions SET description = $3, last_updated_time = $4 WHERE model_id = $1 AND version = $2",
          [model.model_id, version, description, Date.now()],
        );
        return versionOf(tx, model, version);
      });
    },

    deleteVersion(name, version, actor) {
      return db.transaction(async (tx) => {
        const model = await modelRow(tx, name, "update");
        const row = await versionRow(tx, model, version);
        const behind = await tx.query<{ alias: string }>(
          "SELECT alias FROM registered_model_aliases WHERE model_id = $1 AND version = $2",
          [model.model_id, version],
        );
        await checkAliasesUnrouted(
          tx,
          model,
          behind.rows.map((r) => r.alias),
          "version",
        );
        const aliases = await tx.query<{ alias: string }>(
          "DELETE FROM registered_model_aliases WHERE model_id = $1 AND version = $2 RETURNING alias",
          [model.model_id, version],
        );
        for (const { alias } of [...aliases.rows].sort((a, b) => a.alias.localeCompare(b.alias))) {
          await recordEvent(tx, model.model_id, model.name, actor, {
            type: "ALIAS_DELETED",
            alias,
            fromVersion: version,
          });
        }
        await tx.query("DELETE FROM model_versions WHERE model_id = $1 AND version = $2", [model.model_id, version]);
        await recordEvent(tx, model.model_id, model.name, actor, {
          type: "VERSION_DELETED",
          version,
          fromStage: row.current_stage as StageName,
        });
        await touchModel(tx, model.model_id);
        return { storageKey: row.storage_key };
      });
    },

    async setVersionTag(name, version, key, value, actor) {
      await db.transaction(async (tx) => {
        const model = await modelRow(tx, name, "update");
        await versionRow(tx, model, version);
        const before = await tx.query<{ value: string }>(
          "SELECT value FROM model_version_tags WHERE model_id = $1 AND version = $2 AND key = $3",
          [model.model_id, version, key],
        );
        await recordEvent(tx, model.model_id, model.name, actor, {
          type: "VERSION_TAG_SET",
          version,
          key,
          fromValue: before.rows[0]?.value ?? "",
          toValue: value,
        });
        await tx.query(
          `INSERT INTO model_version_tags (model_id, version, key, value) VALUES ($1, $2, $3, $4)
           ON CONFLICT (model_id, version, key) DO UPDATE SET value = EXCLUDED.value`,
          [model.model_id, version, key, value],
        );
      });
    },

    async deleteVersionTag(name, version, key, actor) {
      await db.transaction(async (tx) => {
        const model = await modelRow(tx, name, "update");
        await versionRow(tx, model, version);
        const deleted = await tx.query<{ value: string }>(
          "DELETE FROM model_version_tags WHERE model_id = $1 AND version = $2 AND key = $3 RETURNING value",
          [model.model_id, version, key],
        );
        const before = deleted.rows[0]?.value;
        if (before === undefined) throw registryErrors.tagNotFound(key);
        await recordEvent(tx, model.model_id, model.name, actor, {
          type: "VERSION_TAG_DELETED",
          version,
          key,
          fromValue: before,
        });
      });
    },
  };
}
