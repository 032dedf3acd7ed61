/**
 * Registered models over SQL: create, read, search, rename, describe, delete (with their
 * versions), tags; each change with its audit event. Part of the registry store
 * (sql-registry-store.ts).
 */
import { registryErrors } from "../core/errors/registry-errors.js";
import { singleRow } from "../storage/sql/single-row.js";
import type { SqlClient } from "../storage/sql/sql-client.js";
import { modelSearchSpec } from "./model-search-spec.js";
import { searchRegistryRows } from "./registry-search.js";
import type { ModelStore } from "./registry-store.js";
import { recordEvent } from "./sql-registry-events.js";
import {
  isUniqueViolation,
  type ModelRow,
  modelById,
  modelRow,
  modelsFromRows,
  touchModel,
} from "./sql-registry-rows.js";
import { checkRouteAliasesExist } from "./sql-route-aliases.js";

/** The registered-models aggregate of the registry store, over a migrated database. */
export function createSqlModelStore(db: SqlClient): ModelStore {
  return {
    async createModel(input, actor) {
      const now = Date.now();
      try {
        return await db.transaction(async (tx) => {
          const inserted = await tx.query<{ model_id: string }>(
            `INSERT INTO registered_models (name, description, creation_time, last_updated_time)
             VALUES ($1, $2, $3, $3) RETURNING model_id`,
            [input.name, input.description, now],
          );
          const modelId = singleRow(inserted.rows).model_id;
          for (const [key, value] of Object.entries(input.tags)) {
            // A new model has no aliases yet: a split or shadow naming one is refused here.
            const field = `tags[${JSON.stringify(key)}].value`;
            await checkRouteAliasesExist(tx, { model_id: modelId, name: input.name }, key, value, field);
            await tx.query("INSERT INTO registered_model_tags (model_id, key, value) VALUES ($1, $2, $3)", [
              modelId,
              key,
              value,
            ]);
          }
          await recordEvent(tx, modelId, input.name, actor, { type: "MODEL_CREATED" });
          return modelById(tx, modelId);
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw registryErrors.modelAlreadyExists(input.name, "name");
        throw err;
      }
    },

    getModel(name) {
      return db.transaction(async (tx) => modelById(tx, (await modelRow(tx, name)).model_id));
    },

    async searchModels(query) {
      const page = await searchRegistryRows<ModelRow>(db, modelSearchSpec, query);
      return { items: await modelsFromRows(db, page.items), nextPageToken: page.nextPageToken };
    },

    async renameModel(name, newName, actor) {
      try {
        return await db.transaction(async (tx) => {
          const model = await modelRow(tx, name, "update");
          if (newName === name) return modelById(tx, model.model_id);
          await tx.query("UPDATE registered_models SET name = $2, last_updated_time = $3 WHERE model_id = $1", [
            model.model_id,
            newName,
            Date.now(),
          ]);
          await recordEvent(tx, model.model_id, newName, actor, {
            type: "MODEL_RENAMED",
            fromName: name,
            toName: newName,
          });
          return modelById(tx, model.model_id);
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw registryErrors.modelAlreadyExists(newName, "new_name");
        throw err;
      }
    },

    updateModelDescription(name, description, actor) {
      return db.transaction(async (tx) => {
        const model = await modelRow(tx, name, "update");
        if (model.description === description) return modelById(tx, model.model_id);
        await recordEvent(tx, model.model_id, model.name, actor, {
          type: "MODEL_UPDATED",
          key: "description",
          fromValue: model.description,
          toValue: description,
        });
        await tx.query("UPDATE registered_models SET description = $2, last_updated_time = $3 WHERE model_id = $1", [
          model.model_id,
          description,
          Date.now(),
        ]);
        return modelById(tx, model.model_id);
      });
    },

    deleteModel(name, actor) {
      return db.transaction(async (tx) => {
        const model = await modelRow(tx, name, "update");
        const keys = await tx.query<{ storage_key: string }>(
          "SELECT storage_key FROM model_versions WHERE model_id = $1 AND storage_key <> ''",
          [model.model_id],
        );
        await tx.query("DELETE FROM registered_models WHERE model_id = $1", [model.model_id]);
        await recordEvent(tx, model.model_id, name, actor, { type: "MODEL_DELETED" });
        return { storageKeys: keys.rows.map((r) => r.storage_key) };
      });
    },

    async setModelTag(name, key, value, actor) {
      await db.transaction(async (tx) => {
        const model = await modelRow(tx, name, "update");
        await checkRouteAliasesExist(tx, model, key, value, "value");
        const before = await tx.query<{ value: string }>(
          "SELECT value FROM registered_model_tags WHERE model_id = $1 AND key = $2",
          [model.model_id, key],
        );
        await tx.query(
          `INSERT INTO registered_model_tags (model_id, key, value) VALUES ($1, $2, $3)
           ON CONFLICT (model_id, key) DO UPDATE SET value = EXCLUDED.value`,
          [model.model_id, key, value],
        );
        await recordEvent(tx, model.model_id, model.name, actor, {
          type: "MODEL_TAG_SET",
          key,
          fromValue: before.rows[0]?.value ?? "",
          toValue: value,
        });
        await touchModel(tx, model.model_id);
      });
    },

    async deleteModelTag(name, key, actor) {
      await db.transaction(async (tx) => {
        const model = await modelRow(tx, name, "update");
        const deleted = await tx.query<{ value: string }>(
          "DELETE FROM registered_model_tags WHERE model_id = $1 AND key = $2 RETURNING value",
          [model.model_id, key],
        );
        const before = deleted.rows[0]?.value;
        if (before === undefined) throw registryErrors.tagNotFound(key);
        await recordEvent(tx, model.model_id, model.name, actor, {
          type: "MODEL_TAG_DELETED",
          key,
          fromValue: before,
        });
        await touchModel(tx, model.model_id);
      });
    },
  };
}
