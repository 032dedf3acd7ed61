import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { commonErrors } from "../core/errors/common-errors.js";
import { registryErrors } from "../core/errors/registry-errors.js";
import {
  ModelSignatureSchema,
  type ModelState,
  ModelStateSchema,
  type ModelVersion,
  ModelVersionSchema,
  type RegisteredModel,
  RegisteredModelSchema,
  type RegistryEvent,
  RegistryEventSchema,
  type Stage,
  StageVersionsSchema,
} from "../gen/mlpipe/registry/v1/registry_pb.js";
import { runKeysetSearch } from "../storage/query/keyset-search.js";
import { decodePageToken, encodePageToken } from "../storage/query/page-token.js";
import type { SearchSpec } from "../storage/query/search-spec.js";
import { type SqlClient, SqlConstraintError, type SqlQueryable } from "../storage/sql/sql-client.js";
import { modelRowColumns, modelSearchSpec } from "./model-search-spec.js";
import { registryEventsChannel } from "./registry-events-channel.js";
import type {
  CreateModelInput,
  CreateVersionInput,
  Page,
  RegistryStore,
  RunArtifact,
  SearchQuery,
  VersionArtifact,
} from "./registry-store.js";
import {
  type EventTypeName,
  eventTypeFromName,
  type StageName,
  stageFromName,
  stageName,
  statusFromName,
  statusName,
} from "./stage-names.js";
import { versionFrom, versionRowColumns, versionSearchSpec } from "./version-search-spec.js";

/** Creates the registry store over a migrated database (PGlite or PostgreSQL). */
export function createSqlRegistryStore(client: SqlClient): RegistryStore {
  return new SqlRegistryStore(client);
}

/** Columns of registered_models as the drivers return them (BIGINT as decimal strings). */
interface ModelRow {
  model_id: string;
  name: string;
  description: string;
  creation_time: string;
  last_updated_time: string;
}

interface VersionRow {
  model_id: string;
  name: string;
  version: string;
  creation_time: string;
  last_updated_time: string;
  description: string;
  current_stage: string;
  source: string;
  run_id: string;
  status: string;
  status_message: string;
  artifact_size: string;
  artifact_sha256: string;
  storage_key: string;
  storage_uri: string;
  signature_json: string;
  created_by: string;
}

interface EventRow {
  sequence: string;
  model_id: string;
  time: string;
  actor: string;
  model_name: string;
  type: string;
  version: string;
  from_stage: string;
  to_stage: string;
  alias: string;
  from_version: string;
  to_version: string;
  from_name: string;
  to_name: string;
  key: string;
  from_value: string;
  to_value: string;
}

/** What an event records besides model, time and actor. */
interface EventFields {
  readonly type: EventTypeName;
  readonly version?: bigint;
  readonly fromStage?: StageName;
  readonly toStage?: StageName;
  readonly alias?: string;
  readonly fromVersion?: bigint;
  readonly toVersion?: bigint;
  readonly fromName?: string;
  readonly toName?: string;
  readonly key?: string;
  readonly fromValue?: string;
  readonly toValue?: string;
}

const modelColumns = Object.values(modelRowColumns).join(", ");
const versionColumns = Object.values(versionRowColumns).join(", ");

/** One page of a registry search: the rows the spec selects, in order, and the next page's token. */
async function searchRows<Row extends object>(
  db: SqlQueryable,
  spec: SearchSpec,
  query: SearchQuery,
): Promise<Page<Row>> {
  const page = await runKeysetSearch<Row>(db, {
    spec,
    filter: query.filter,
    orderBy: query.orderBy,
    defaultOrderBy: "name ASC",
    pageToken: query.pageToken,
    maxResults: query.maxResults,
  });
  return { items: page.rows, nextPageToken: page.nextPageToken };
}

/** `$1, $2, ...` placeholders for `values`, appended to `params`. */
function placeholders(values: readonly unknown[], params: unknown[]): string {
  return values
    .map((v) => {
      params.push(v);
      return `$${params.length}`;
    })
    .join(", ");
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof SqlConstraintError && err.sqlState === "23505";
}

function isForeignKeyViolation(err: unknown): boolean {
  return err instanceof SqlConstraintError && err.sqlState === "23503";
}

class SqlRegistryStore implements RegistryStore {
  readonly #db: SqlClient;

  constructor(db: SqlClient) {
    this.#db = db;
  }

  // --- registered models -------------------------------------------------------------------

  async createModel(input: CreateModelInput, actor: string): Promise<RegisteredModel> {
    const now = Date.now();
    try {
      return await this.#db.transaction(async (tx) => {
        const inserted = await tx.query<{ model_id: string }>(
          `INSERT INTO registered_models (name, description, creation_time, last_updated_time)
           VALUES ($1, $2, $3, $3) RETURNING model_id`,
          [input.name, input.description, now],
        );
        const modelId = inserted.rows[0]?.model_id;
        if (modelId === undefined) throw new Error("INSERT ... RETURNING returned no row");
        for (const [key, value] of Object.entries(input.tags)) {
          await tx.query("INSERT INTO registered_model_tags (model_id, key, value) VALUES ($1, $2, $3)", [
            modelId,
            key,
            value,
          ]);
        }
        await recordEvent(tx, modelId, input.name, actor, { type: "MODEL_CREATED" });
        return this.#modelById(tx, modelId);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw registryErrors.modelAlreadyExists(input.name, "name");
      throw err;
    }
  }

  getModel(name: string): Promise<RegisteredModel> {
    return this.#db.transaction(async (tx) => this.#modelById(tx, (await findModel(tx, name)).model_id));
  }

  async searchModels(query: SearchQuery): Promise<Page<RegisteredModel>> {
    const page = await searchRows<ModelRow>(this.#db, modelSearchSpec, query);
    return { items: await this.#modelsFromRows(this.#db, page.items), nextPageToken: page.nextPageToken };
  }

  async renameModel(name: string, newName: string, actor: string): Promise<RegisteredModel> {
    try {
      return await this.#db.transaction(async (tx) => {
        const model = await lockModel(tx, name);
        if (newName === name) return this.#modelById(tx, model.model_id);
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
        return this.#modelById(tx, model.model_id);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw registryErrors.modelAlreadyExists(newName, "new_name");
      throw err;
    }
  }

  updateModelDescription(name: string, description: string, actor: string): Promise<RegisteredModel> {
    return this.#db.transaction(async (tx) => {
      const model = await lockModel(tx, name);
      if (model.description === description) return this.#modelById(tx, model.model_id);
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
      return this.#modelById(tx, model.model_id);
    });
  }

  deleteModel(name: string, actor: string): Promise<{ storageKeys: string[] }> {
    return this.#db.transaction(async (tx) => {
      const model = await lockModel(tx, name);
      const keys = await tx.query<{ storage_key: string }>(
        "SELECT storage_key FROM model_versions WHERE model_id = $1 AND storage_key <> ''",
        [model.model_id],
      );
      await tx.query("DELETE FROM registered_models WHERE model_id = $1", [model.model_id]);
      await recordEvent(tx, model.model_id, name, actor, { type: "MODEL_DELETED" });
      return { storageKeys: keys.rows.map((r) => r.storage_key) };
    });
  }

  async setModelTag(name: string, key: string, value: string, actor: string): Promise<void> {
    await this.#db.transaction(async (tx) => {
      const model = await lockModel(tx, name);
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
  }

  async deleteModelTag(name: string, key: string, actor: string): Promise<void> {
    await this.#db.transaction(async (tx) => {
      const model = await lockModel(tx, name);
      const deleted = await tx.query<{ value: string }>(
        "DELETE FROM registered_model_tags WHERE model_id = $1 AND key = $2 RETURNING value",
        [model.model_id, key],
      );
      const before = deleted.rows[0]?.value;
      if (before === undefined) throw registryErrors.tagNotFound(key);
      await recordEvent(tx, model.model_id, model.name, actor, { type: "MODEL_TAG_DELETED", key, fromValue: before });
      await touchModel(tx, model.model_id);
    });
  }

  // --- model versions ----------------------------------------------------------------------

  async findRunArtifact(runId: string, path: string): Promise<RunArtifact | undefined> {
    const result = await this.#db.query<{ artifact_uri: string; file_size: string | null; sha256: string | null }>(
      `SELECT r.artifact_uri, a.file_size, a.sha256
         FROM runs r LEFT JOIN run_artifacts a ON a.run_id = r.run_id AND a.path = $2
        WHERE r.run_id = $1`,
      [runId, path],
    );
    const row = result.rows[0];
    if (row === undefined) return undefined;
    return {
      artifactUri: row.artifact_uri,
      file:
        row.file_size === null || row.sha256 === null ? undefined : { size: Number(row.file_size), sha256: row.sha256 },
    };
  }

  async createVersion(input: CreateVersionInput, actor: string): Promise<ModelVersion> {
    try {
      return await this.#db.transaction(async (tx) => {
        const model = await lockModel(tx, input.name);
        const now = Date.now();
        const numbered = await tx.query<{ last_version: string }>(
          `UPDATE registered_models SET last_version = last_version + 1, last_updated_time = $2
            WHERE model_id = $1 RETURNING last_version`,
          [model.model_id, now],
        );
        const version = numbered.rows[0]?.last_version;
        if (version === undefined) throw new Error("UPDATE ... RETURNING returned no row");
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
        return this.#versionOf(tx, model.model_id, model.name, BigInt(version));
      });
    } catch (err) {
      if (isForeignKeyViolation(err)) throw registryErrors.modelNotFound(input.name);
      throw err;
    }
  }

  getVersion(name: string, version: bigint): Promise<ModelVersion> {
    return this.#db.transaction(async (tx) => {
      const model = await findModel(tx, name);
      return this.#versionOf(tx, model.model_id, model.name, version);
    });
  }

  getVersionArtifact(name: string, version: bigint): Promise<VersionArtifact> {
    return this.#db.transaction(async (tx) => {
      const model = await findModel(tx, name);
      const row = await versionRow(tx, model, version);
      return { version: (await this.#versionsFromRows(tx, [row]))[0] ?? unreachable(), storageKey: row.storage_key };
    });
  }

  async searchVersions(query: SearchQuery): Promise<Page<ModelVersion>> {
    const page = await searchRows<VersionRow>(this.#db, versionSearchSpec, query);
    return { items: await this.#versionsFromRows(this.#db, page.items), nextPageToken: page.nextPageToken };
  }

  updateVersionDescription(name: string, version: bigint, description: string, actor: string): Promise<ModelVersion> {
    return this.#db.transaction(async (tx) => {
      const model = await lockModel(tx, name);
      const row = await versionRow(tx, model, version);
      if (row.description === description) return this.#versionOf(tx, model.model_id, model.name, version);
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
      return this.#versionOf(tx, model.model_id, model.name, version);
    });
  }

  deleteVersion(name: string, version: bigint, actor: string): Promise<{ storageKey: string }> {
    return this.#db.transaction(async (tx) => {
      const model = await lockModel(tx, name);
      const row = await versionRow(tx, model, version);
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
  }

  async setVersionTag(name: string, version: bigint, key: string, value: string, actor: string): Promise<void> {
    await this.#db.transaction(async (tx) => {
      const model = await lockModel(tx, name);
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
  }

  async deleteVersionTag(name: string, version: bigint, key: string, actor: string): Promise<void> {
    await this.#db.transaction(async (tx) => {
      const model = await lockModel(tx, name);
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
  }

  transitionStage(
    name: string,
    version: bigint,
    stage: Stage,
    archiveExisting: boolean,
    actor: string,
  ): Promise<ModelVersion> {
    const target = stageName(stage);
    return this.#db.transaction(async (tx) => {
      // The model's row lock serializes every transition of the model: a concurrent promotion
      // waits here, then sees this one's committed result and archives it.
      const model = await lockModel(tx, name);
      const row = await versionRow(tx, model, version);
      if (row.status !== "READY") throw registryErrors.versionNotReady(model.name, version, row.status);
      if (row.current_stage === target) return this.#versionOf(tx, model.model_id, model.name, version);
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
      return this.#versionOf(tx, model.model_id, model.name, version);
    });
  }

  getLatestVersions(name: string, stages: readonly Stage[]): Promise<ModelVersion[]> {
    return this.#db.transaction(async (tx) => {
      const model = await findModel(tx, name);
      const params: unknown[] = [model.model_id];
      const names = stages.map(stageName);
      const rows = await tx.query<VersionRow>(
        `SELECT DISTINCT ON (v.current_stage) ${versionColumns}
           FROM ${versionFrom}
          WHERE v.model_id = $1 AND v.current_stage IN (${placeholders(names, params)})
          ORDER BY v.current_stage, v.version DESC`,
        params,
      );
      const versions = await this.#versionsFromRows(tx, rows.rows);
      return names.flatMap((n) => versions.filter((v) => stageName(v.currentStage) === n));
    });
  }

  // --- aliases -----------------------------------------------------------------------------

  async setAlias(name: string, alias: string, version: bigint, actor: string): Promise<void> {
    await this.#db.transaction(async (tx) => {
      const model = await lockModel(tx, name);
      const row = await versionRow(tx, model, version);
      if (row.status !== "READY") throw registryErrors.versionNotReady(model.name, version, row.status);
      const current = await tx.query<{ version: string }>(
        "SELECT version FROM registered_model_aliases WHERE model_id = $1 AND alias = $2",
        [model.model_id, alias],
      );
      const before = current.rows[0]?.version;
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
  }

  async deleteAlias(name: string, alias: string, actor: string): Promise<void> {
    await this.#db.transaction(async (tx) => {
      const model = await lockModel(tx, name);
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
  }

  getVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return this.#db.transaction(async (tx) => {
      const model = await findModel(tx, name);
      const found = await tx.query<{ version: string }>(
        "SELECT version FROM registered_model_aliases WHERE model_id = $1 AND alias = $2",
        [model.model_id, alias],
      );
      const version = found.rows[0]?.version;
      if (version === undefined) throw registryErrors.aliasNotFound(model.name, alias);
      return this.#versionOf(tx, model.model_id, model.name, BigInt(version));
    });
  }

  // --- audit log and watch -----------------------------------------------------------------

  async listEvents(name: string, maxResults: number, pageToken: string): Promise<Page<RegistryEvent>> {
    const model = await findModel(this.#db, name);
    const queryKey = JSON.stringify({ what: "registry_events", model: model.model_id });
    const after = pageToken === "" ? "0" : (decodePageToken(pageToken, queryKey, ["bigint"])[0] ?? "0");
    const rows = await this.#db.query<EventRow>(
      "SELECT * FROM registry_events WHERE model_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3",
      [model.model_id, after, maxResults + 1],
    );
    const page = rows.rows.slice(0, maxResults);
    const last = page.at(-1);
    return {
      items: page.map(eventFromRow),
      nextPageToken:
        rows.rows.length > maxResults && last !== undefined ? encodePageToken(queryKey, [last.sequence]) : "",
    };
  }

  getModelState(name: string): Promise<{ modelId: string; state: ModelState }> {
    return this.#db.transaction(async (tx) => {
      // FOR SHARE waits for a change of the model in progress and keeps new ones out until this
      // transaction ends, so the state below and the last sequence agree.
      const found = await tx.query<ModelRow>(
        `SELECT ${modelColumns} FROM registered_models m WHERE m.name = $1 FOR SHARE`,
        [name],
      );
      const model = found.rows[0];
      if (model === undefined) throw registryErrors.modelNotFound(name);
      const versions = await tx.query<{ current_stage: string; version: string }>(
        "SELECT current_stage, version FROM model_versions WHERE model_id = $1 AND status = 'READY' ORDER BY version",
        [model.model_id],
      );
      const aliases = await tx.query<{ alias: string; version: string }>(
        "SELECT alias, version FROM registered_model_aliases WHERE model_id = $1 ORDER BY alias",
        [model.model_id],
      );
      const last = await tx.query<{ sequence: string | null }>(
        "SELECT MAX(sequence) AS sequence FROM registry_events WHERE model_id = $1",
        [model.model_id],
      );
      const byStage = new Map<Stage, bigint[]>();
      for (const r of versions.rows) {
        const stage = stageFromName(r.current_stage);
        byStage.set(stage, [...(byStage.get(stage) ?? []), BigInt(r.version)]);
      }
      const state = create(ModelStateSchema, {
        name: model.name,
        sequence: BigInt(last.rows[0]?.sequence ?? 0),
        stages: [...byStage.entries()]
          .sort(([a], [b]) => a - b)
          .map(([stage, list]) => create(StageVersionsSchema, { stage, versions: list })),
        aliases: Object.fromEntries(aliases.rows.map((a) => [a.alias, BigInt(a.version)])),
      });
      return { modelId: model.model_id, state };
    });
  }

  async resolveWatchedModel(name: string, afterSequence: bigint): Promise<string> {
    if (afterSequence > 0n) {
      const found = await this.#db.query<{ model_id: string }>(
        `SELECT e.model_id FROM registry_events e
          WHERE e.sequence = $1
            AND EXISTS (SELECT 1 FROM registry_events x
                         WHERE x.model_id = e.model_id AND (x.model_name = $2 OR x.to_name = $2))`,
        [afterSequence, name],
      );
      const modelId = found.rows[0]?.model_id;
      if (modelId !== undefined) return modelId;
      const last = await this.#db.query<{ sequence: string | null }>(
        "SELECT MAX(sequence) AS sequence FROM registry_events",
      );
      if (afterSequence > BigInt(last.rows[0]?.sequence ?? 0)) {
        throw commonErrors.invalidArgument(
          "after_sequence",
          "is ahead of the event log; use a sequence the server sent",
        );
      }
    }
    return (await findModel(this.#db, name)).model_id;
  }

  async eventsAfter(modelId: string, afterSequence: bigint, limit: number): Promise<RegistryEvent[]> {
    const rows = await this.#db.query<EventRow>(
      "SELECT * FROM registry_events WHERE model_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3",
      [modelId, afterSequence, limit],
    );
    return rows.rows.map(eventFromRow);
  }

  async latestSequences(modelIds: readonly string[]): Promise<Map<string, bigint>> {
    if (modelIds.length === 0) return new Map();
    const params: unknown[] = [];
    const rows = await this.#db.query<{ model_id: string; sequence: string }>(
      `SELECT model_id, MAX(sequence) AS sequence FROM registry_events
        WHERE model_id IN (${placeholders(modelIds, params)}) GROUP BY model_id`,
      params,
    );
    return new Map(rows.rows.map((r) => [r.model_id, BigInt(r.sequence)]));
  }

  // --- reading helpers ---------------------------------------------------------------------

  async #modelById(db: SqlQueryable, modelId: string): Promise<RegisteredModel> {
    const rows = await db.query<ModelRow>(`SELECT ${modelColumns} FROM registered_models m WHERE m.model_id = $1`, [
      modelId,
    ]);
    return (await this.#modelsFromRows(db, rows.rows))[0] ?? unreachable();
  }

  async #modelsFromRows(db: SqlQueryable, rows: readonly ModelRow[]): Promise<RegisteredModel[]> {
    if (rows.length === 0) return [];
    const params: unknown[] = [];
    const ids = placeholders(
      rows.map((r) => r.model_id),
      params,
    );
    const tags = await db.query<{ model_id: string; key: string; value: string }>(
      `SELECT model_id, key, value FROM registered_model_tags WHERE model_id IN (${ids})`,
      params,
    );
    const aliases = await db.query<{ model_id: string; alias: string; version: string }>(
      `SELECT model_id, alias, version FROM registered_model_aliases WHERE model_id IN (${ids}) ORDER BY alias`,
      params,
    );
    return rows.map((r) =>
      create(RegisteredModelSchema, {
        name: r.name,
        description: r.description,
        creationTime: BigInt(r.creation_time),
        lastUpdatedTime: BigInt(r.last_updated_time),
        tags: Object.fromEntries(tags.rows.filter((t) => t.model_id === r.model_id).map((t) => [t.key, t.value])),
        aliases: Object.fromEntries(
          aliases.rows.filter((a) => a.model_id === r.model_id).map((a) => [a.alias, BigInt(a.version)]),
        ),
      }),
    );
  }

  async #versionOf(db: SqlQueryable, modelId: string, name: string, version: bigint): Promise<ModelVersion> {
    const row = await versionRow(db, { model_id: modelId, name }, version);
    return (await this.#versionsFromRows(db, [row]))[0] ?? unreachable();
  }

  async #versionsFromRows(db: SqlQueryable, rows: readonly VersionRow[]): Promise<ModelVersion[]> {
    if (rows.length === 0) return [];
    const params: unknown[] = [];
    const ids = placeholders([...new Set(rows.map((r) => r.model_id))], params);
    const tags = await db.query<{ model_id: string; version: string; key: string; value: string }>(
      `SELECT model_id, version, key, value FROM model_version_tags WHERE model_id IN (${ids})`,
      params,
    );
    const aliases = await db.query<{ model_id: string; alias: string; version: string }>(
      `SELECT model_id, alias, version FROM registered_model_aliases WHERE model_id IN (${ids}) ORDER BY alias`,
      params,
    );
    const same = (r: VersionRow) => (x: { model_id: string; version: string }) =>
      x.model_id === r.model_id && x.version === r.version;
    return rows.map((r) =>
      create(ModelVersionSchema, {
        name: r.name,
        version: BigInt(r.version),
        creationTime: BigInt(r.creation_time),
        lastUpdatedTime: BigInt(r.last_updated_time),
        description: r.description,
        currentStage: stageFromName(r.current_stage),
        source: r.source,
        runId: r.run_id,
        status: statusFromName(r.status),
        statusMessage: r.status_message,
        tags: Object.fromEntries(tags.rows.filter(same(r)).map((t) => [t.key, t.value])),
        aliases: aliases.rows.filter(same(r)).map((a) => a.alias),
        artifactSize: BigInt(r.artifact_size),
        artifactSha256: r.artifact_sha256,
        storageUri: r.storage_uri,
        ...(r.signature_json === "" ? {} : { signature: fromJsonString(ModelSignatureSchema, r.signature_json) }),
        createdBy: r.created_by,
      }),
    );
  }
}

/** The model row, or REGISTRY_MODEL_NOT_FOUND. */
async function findModel(db: SqlQueryable, name: string): Promise<ModelRow> {
  const found = await db.query<ModelRow>(`SELECT ${modelColumns} FROM registered_models m WHERE m.name = $1`, [name]);
  const model = found.rows[0];
  if (model === undefined) throw registryErrors.modelNotFound(name);
  return model;
}

/**
 * Locks the model's row for the rest of the transaction (SELECT ... FOR UPDATE), or throws
 * REGISTRY_MODEL_NOT_FOUND. Every change of a model starts here, on every replica.
 */
async function lockModel(tx: SqlQueryable, name: string): Promise<ModelRow> {
  const found = await tx.query<ModelRow>(
    `SELECT ${modelColumns} FROM registered_models m WHERE m.name = $1 FOR UPDATE`,
    [name],
  );
  const model = found.rows[0];
  if (model === undefined) throw registryErrors.modelNotFound(name);
  return model;
}

async function touchModel(tx: SqlQueryable, modelId: string, now: number = Date.now()): Promise<void> {
  await tx.query("UPDATE registered_models SET last_updated_time = $2 WHERE model_id = $1", [modelId, now]);
}

async function versionRow(
  db: SqlQueryable,
  model: Pick<ModelRow, "model_id" | "name">,
  version: bigint,
): Promise<VersionRow> {
  const found = await db.query<VersionRow>(
    `SELECT ${versionColumns} FROM ${versionFrom} WHERE v.model_id = $1 AND v.version = $2`,
    [model.model_id, version],
  );
  const row = found.rows[0];
  if (row === undefined) throw registryErrors.versionNotFound(model.name, version);
  return row;
}

/** Appends an audit event and queues the notification PostgreSQL sends when the transaction commits. */
async function recordEvent(
  tx: SqlQueryable,
  modelId: string,
  modelName: string,
  actor: string,
  e: EventFields,
): Promise<void> {
  await tx.query(
    `INSERT INTO registry_events (model_id, time, actor, model_name, type, version, from_stage, to_stage, alias,
       from_version, to_version, from_name, to_name, key, from_value, to_value)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
    [
      modelId,
      Date.now(),
      actor,
      modelName,
      e.type,
      e.version ?? 0n,
      e.fromStage ?? "",
      e.toStage ?? "",
      e.alias ?? "",
      e.fromVersion ?? 0n,
      e.toVersion ?? 0n,
      e.fromName ?? "",
      e.toName ?? "",
      e.key ?? "",
      e.fromValue ?? "",
      e.toValue ?? "",
    ],
  );
  // Notifications with the same payload in one transaction are folded into one by PostgreSQL.
  await tx.query("SELECT pg_notify($1, $2)", [registryEventsChannel, modelId]);
}

function eventFromRow(r: EventRow): RegistryEvent {
  return create(RegistryEventSchema, {
    sequence: BigInt(r.sequence),
    time: BigInt(r.time),
    actor: r.actor,
    modelName: r.model_name,
    type: eventTypeFromName(r.type),
    version: BigInt(r.version),
    fromStage: stageFromName(r.from_stage),
    toStage: stageFromName(r.to_stage),
    alias: r.alias,
    fromVersion: BigInt(r.from_version),
    toVersion: BigInt(r.to_version),
    fromName: r.from_name,
    toName: r.to_name,
    key: r.key,
    fromValue: r.from_value,
    toValue: r.to_value,
  });
}

function unreachable(): never {
  throw new Error("a row read back in the same transaction is missing");
}
