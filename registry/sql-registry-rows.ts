/**
 * The rows of the registry tables as the SQL stores read them (storage/sql/migrations/
 * 0010_registry.sql), how a model or version row is found (and locked), and how rows become
 * protobuf messages with their tags and aliases. BIGINT columns arrive as decimal strings.
 */
import { create, fromJsonString } from "@bufbuild/protobuf";
import { registryErrors } from "../core/errors/registry-errors.js";
import {
  ModelSignatureSchema,
  type ModelVersion,
  ModelVersionSchema,
  type RegisteredModel,
  RegisteredModelSchema,
} from "../gen/mlpipe/registry/v1/registry_pb.js";
import { singleRow } from "../storage/sql/single-row.js";
import { SqlConstraintError, type SqlQueryable } from "../storage/sql/sql-client.js";
import { stageFromName, statusFromName } from "./stage-names.js";

/** Columns of `registered_models` a model is built from, by name. */
export const modelRowColumns = {
  model_id: "m.model_id",
  name: "m.name",
  description: "m.description",
  creation_time: "m.creation_time",
  last_updated_time: "m.last_updated_time",
} as const;

/** A model row (see {@link modelRowColumns}). */
export type ModelRow = Record<keyof typeof modelRowColumns, string>;

/** Columns of a version row (`model_versions` with its model's name), by name. */
export const versionRowColumns = {
  model_id: "v.model_id",
  name: "m.name",
  version: "v.version",
  creation_time: "v.creation_time",
  last_updated_time: "v.last_updated_time",
  description: "v.description",
  current_stage: "v.current_stage",
  source: "v.source",
  run_id: "v.run_id",
  status: "v.status",
  status_message: "v.status_message",
  artifact_size: "v.artifact_size",
  artifact_sha256: "v.artifact_sha256",
  storage_key: "v.storage_key",
  storage_uri: "v.storage_uri",
  signature_json: "v.signature_json",
  created_by: "v.created_by",
} as const;

/** A version row (see {@link versionRowColumns}). */
export type VersionRow = Record<keyof typeof versionRowColumns, string>;

/** The select list of a model row over `registered_models m`. */
const modelColumns = Object.values(modelRowColumns).join(", ");
/** The select list of a version row over {@link versionFrom}. */
export const versionColumns = Object.values(versionRowColumns).join(", ");
/** The rows a version is read from: versions with their model (for its name). */
export const versionFrom = "model_versions v JOIN registered_models m ON m.model_id = v.model_id";

/**
 * The model row named `name`, or REGISTRY_MODEL_NOT_FOUND. `lock` "update" holds the row until
 * the transaction ends: every change of a model starts there, so a model's changes, version
 * numbers and events are serialized across every replica; "share" waits for a change in progress
 * and keeps new ones out (a consistent read of the model's state).
 */
export async function modelRow(
  db: SqlQueryable,
  name: string,
  lock: "none" | "update" | "share" = "none",
): Promise<ModelRow> {
  const suffix = lock === "update" ? " FOR UPDATE" : lock === "share" ? " FOR SHARE" : "";
  const found = await db.query<ModelRow>(`SELECT ${modelColumns} FROM registered_models m WHERE m.name = $1${suffix}`, [
    name,
  ]);
  const model = found.rows[0];
  if (model === undefined) throw registryErrors.modelNotFound(name);
  return model;
}

/** The version row, or REGISTRY_VERSION_NOT_FOUND naming the model. */
export async function versionRow(
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

/** Moves the model's last_updated_time to `now`. */
export async function touchModel(tx: SqlQueryable, modelId: string, now: number = Date.now()): Promise<void> {
  await tx.query("UPDATE registered_models SET last_updated_time = $2 WHERE model_id = $1", [modelId, now]);
}

/** `$1, $2, ...` placeholders for `values`, appended to `params`. */
export function placeholders(values: readonly unknown[], params: unknown[]): string {
  return values
    .map((v) => {
      params.push(v);
      return `$${params.length}`;
    })
    .join(", ");
}

/** True for a unique violation (SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof SqlConstraintError && err.sqlState === "23505";
}

/** True for a foreign-key violation (SQLSTATE 23503). */
export function isForeignKeyViolation(err: unknown): boolean {
  return err instanceof SqlConstraintError && err.sqlState === "23503";
}

/** The aliases of these models, alias order (they travel with models and versions). */
async function aliasesOf(
  db: SqlQueryable,
  ids: string,
  params: readonly unknown[],
): Promise<{ model_id: string; alias: string; version: string }[]> {
  const aliases = await db.query<{ model_id: string; alias: string; version: string }>(
    `SELECT model_id, alias, version FROM registered_model_aliases WHERE model_id IN (${ids}) ORDER BY alias`,
    params,
  );
  return aliases.rows;
}

/** Models with their tags and aliases, in the order of `rows`. Two queries. */
export async function modelsFromRows(db: SqlQueryable, rows: readonly ModelRow[]): Promise<RegisteredModel[]> {
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
  const aliases = await aliasesOf(db, ids, params);
  return rows.map((r) =>
    create(RegisteredModelSchema, {
      name: r.name,
      description: r.description,
      creationTime: BigInt(r.creation_time),
      lastUpdatedTime: BigInt(r.last_updated_time),
      tags: Object.fromEntries(tags.rows.filter((t) => t.model_id === r.model_id).map((t) => [t.key, t.value])),
      aliases: Object.fromEntries(
        aliases.filter((a) => a.model_id === r.model_id).map((a) => [a.alias, BigInt(a.version)]),
      ),
    }),
  );
}

/** The model with this id, read back in the transaction that changed it. */
export async function modelById(db: SqlQueryable, modelId: string): Promise<RegisteredModel> {
  const rows = await db.query<ModelRow>(`SELECT ${modelColumns} FROM registered_models m WHERE m.model_id = $1`, [
    modelId,
  ]);
  return singleRow(await modelsFromRows(db, rows.rows));
}

/** Versions with their tags and aliases, in the order of `rows`. Two queries. */
export async function versionsFromRows(db: SqlQueryable, rows: readonly VersionRow[]): Promise<ModelVersion[]> {
  if (rows.length === 0) return [];
  const params: unknown[] = [];
  const ids = placeholders([...new Set(rows.map((r) => r.model_id))], params);
  const tags = await db.query<{ model_id: string; version: string; key: string; value: string }>(
    `SELECT model_id, version, key, value FROM model_version_tags WHERE model_id IN (${ids})`,
    params,
  );
  const aliases = await aliasesOf(db, ids, params);
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
      aliases: aliases.filter(same(r)).map((a) => a.alias),
      artifactSize: BigInt(r.artifact_size),
      artifactSha256: r.artifact_sha256,
      storageUri: r.storage_uri,
      ...(r.signature_json === "" ? {} : { signature: fromJsonString(ModelSignatureSchema, r.signature_json) }),
      createdBy: r.created_by,
    }),
  );
}

/** The version of a model, with its tags and aliases; REGISTRY_VERSION_NOT_FOUND when it has none. */
export async function versionOf(
  db: SqlQueryable,
  model: Pick<ModelRow, "model_id" | "name">,
  version: bigint,
): Promise<ModelVersion> {
  return singleRow(await versionsFromRows(db, [await versionRow(db, model, version)]));
}
