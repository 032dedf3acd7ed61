/**
 * Experiments over SQL: create (name unique among active experiments), read, search, rename,
 * tags, soft delete with their runs, restore, purge. Part of the tracking store
 * (sql-tracking-store.ts).
 */
import { create } from "@bufbuild/protobuf";
import { commonErrors } from "../core/errors/common-errors.js";
import { trackingErrors } from "../core/errors/tracking-errors.js";
import { type Experiment, ExperimentSchema } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { inPageOrder } from "../storage/query/keyset-search.js";
import { singleRow } from "../storage/sql/single-row.js";
import { type SqlClient, SqlConstraintError, type SqlQueryable } from "../storage/sql/sql-client.js";
import { searchExperimentIds } from "./search/experiment-search.js";
import { groupKeyValues, type KeyValueRow, lifecycleStage } from "./sql-run-rows.js";
import type { ExperimentStore } from "./tracking-store.js";

/** Options of {@link createSqlExperimentStore}. */
export interface SqlExperimentStoreOptions {
  /**
   * URI under which experiments get their default artifact location `<root>/<experiment id>`
   * (`file:///...` or `s3://bucket/prefix`). A trailing `/` is ignored.
   */
  readonly artifactRootUri: string;
}

/** Id of the experiment that exists in every database, where runs go when CreateRun names none. */
export const defaultExperimentId = "0";
const defaultExperimentName = "Default";

const experimentActiveNameKey = "experiments_active_name_key";

interface ExperimentRow {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: string;
  last_update_time: string;
}

/** The experiments aggregate of the tracking store, over a migrated database. */
export function createSqlExperimentStore(sql: SqlClient, options: SqlExperimentStoreOptions): ExperimentStore {
  const artifactRootUri = options.artifactRootUri.replace(/\/+$/, "");

  /** Experiments with their tags, by id; ids that do not exist are absent. Two queries. */
  async function loadExperiments(ids: readonly string[]): Promise<Map<string, Experiment>> {
    const result = new Map<string, Experiment>();
    if (ids.length === 0) return result;
    const [experiments, tags] = await Promise.all([
      sql.query<ExperimentRow>("SELECT * FROM experiments WHERE experiment_id = ANY($1::bigint[])", [ids]),
      sql.query<KeyValueRow & { experiment_id: string }>(
        "SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id = ANY($1::bigint[]) ORDER BY key",
        [ids],
      ),
    ]);
    const tagsById = groupKeyValues(tags.rows, (r) => r.experiment_id);
    for (const row of experiments.rows) {
      result.set(row.experiment_id, toExperiment(row, tagsById.get(row.experiment_id) ?? {}));
    }
    return result;
  }

  async function getExperiment(experimentId: string): Promise<Experiment> {
    const id = parseExperimentId(experimentId);
    const experiment = (await loadExperiments([id])).get(id);
    if (experiment === undefined) throw trackingErrors.experimentNotFound(experimentId);
    return experiment;
  }

  return {
    async ensureDefaultExperiment() {
      const now = Date.now();
      // DO NOTHING without a target also covers an active experiment that took the name "Default".
      await sql.query(
        `INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time)
         VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT DO NOTHING`,
        [defaultExperimentId, defaultExperimentName, `${artifactRootUri}/${defaultExperimentId}`, now],
      );
    },

    async createExperiment(input) {
      const now = Date.now();
      const tags = Object.entries(input.tags);
      try {
        return await sql.transaction(async (tx) => {
          if (input.artifactLocation !== undefined) await refuseOverlap(tx, input.artifactLocation);
          const { rows } = await tx.query<ExperimentRow>(
            `INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time)
             SELECT id, $1, COALESCE($2::text, $3::text || '/' || id::text), $4, $4
             FROM (SELECT nextval(pg_get_serial_sequence('experiments', 'experiment_id')) AS id) AS next_id
             RETURNING *`,
            [input.name, input.artifactLocation || null, artifactRootUri, now],
          );
          const row = singleRow(rows);
          if (tags.length > 0) {
            await tx.query(
              `INSERT INTO experiment_tags (experiment_id, key, value)
               SELECT $1, key, value FROM unnest($2::text[], $3::text[]) AS t(key, value)`,
              [row.experiment_id, tags.map(([k]) => k), tags.map(([, v]) => v)],
            );
          }
          return toExperiment(row, Object.fromEntries(tags));
        });
      } catch (err) {
        throw uniqueNameError(err, input.name);
      }
    },

    getExperiment,

    async getExperimentByName(name) {
      const { rows } = await sql.query<{ experiment_id: string }>(
        `SELECT experiment_id FROM experiments WHERE name = $1
         ORDER BY lifecycle_stage = 'active' DESC, last_update_time DESC, experiment_id DESC
         LIMIT 1`,
        [name],
      );
      const id = rows[0]?.experiment_id;
      const experiment = id === undefined ? undefined : (await loadExperiments([id])).get(id);
      if (experiment === undefined) throw trackingErrors.experimentNotFound(`named "${name}"`);
      return experiment;
    },

    async searchExperiments(query) {
      const { experimentIds, nextPageToken } = await searchExperimentIds(sql, query);
      const experiments = await loadExperiments(experimentIds);
      return { items: inPageOrder(experimentIds, experiments), nextPageToken };
    },

    async renameExperiment(experimentId, newName) {
      const id = parseExperimentId(experimentId);
      try {
        await sql.transaction(async (tx) => {
          await lockExperiment(tx, id, "update", true);
          await tx.query("UPDATE experiments SET name = $2, last_update_time = $3 WHERE experiment_id = $1", [
            id,
            newName,
            Date.now(),
          ]);
        });
      } catch (err) {
        throw uniqueNameError(err, newName);
      }
      return getExperiment(id);
    },

    async setExperimentTag(experimentId, key, value) {
      const id = parseExperimentId(experimentId);
      await sql.transaction(async (tx) => {
        await lockExperiment(tx, id, "share", true);
        await tx.query(
          `INSERT INTO experiment_tags (experiment_id, key, value) VALUES ($1, $2, $3)
           ON CONFLICT (experiment_id, key) DO UPDATE SET value = EXCLUDED.value`,
          [id, key, value],
        );
      });
    },

    async deleteExperimentTag(experimentId, key) {
      const id = parseExperimentId(experimentId);
      await sql.transaction(async (tx) => {
        await lockExperiment(tx, id, "share", true);
        const { affectedRows } = await tx.query("DELETE FROM experiment_tags WHERE experiment_id = $1 AND key = $2", [
          id,
          key,
        ]);
        if (affectedRows === 0) throw trackingErrors.tagNotFound(key);
      });
    },

    async deleteExperiment(experimentId) {
      const id = parseExperimentId(experimentId);
      await sql.transaction(async (tx) => {
        const { lifecycle_stage } = await lockExperiment(tx, id, "update", false);
        if (lifecycle_stage === "deleted") return;
        await tx.query(
          "UPDATE experiments SET lifecycle_stage = 'deleted', last_update_time = $2 WHERE experiment_id = $1",
          [id, Date.now()],
        );
        await tx.query(
          `UPDATE runs SET lifecycle_stage = 'deleted', deleted_with_experiment = TRUE
           WHERE experiment_id = $1 AND lifecycle_stage = 'active'`,
          [id],
        );
      });
    },

    async restoreExperiment(experimentId) {
      const id = parseExperimentId(experimentId);
      let name = "";
      try {
        await sql.transaction(async (tx) => {
          const row = await lockDeletedExperiment(tx, id);
          name = row.name;
          await tx.query(
            "UPDATE experiments SET lifecycle_stage = 'active', last_update_time = $2 WHERE experiment_id = $1",
            [id, Date.now()],
          );
          await tx.query(
            `UPDATE runs SET lifecycle_stage = 'active', deleted_with_experiment = FALSE
             WHERE experiment_id = $1 AND deleted_with_experiment`,
            [id],
          );
        });
      } catch (err) {
        throw uniqueNameError(err, name);
      }
    },

    async runArtifactUris(experimentId) {
      const id = parseExperimentId(experimentId);
      const { rows } = await sql.query<{ artifact_uri: string }>(
        "SELECT artifact_uri FROM runs WHERE experiment_id = $1 ORDER BY run_id",
        [id],
      );
      return rows.map((r) => r.artifact_uri);
    },

    async purgeExperiment(experimentId) {
      const id = parseExperimentId(experimentId);
      return sql.transaction(async (tx) => {
        const row = await lockDeletedExperiment(tx, id);
        // Params, tags, latest metrics, batches and the artifact index go with their run by
        // ON DELETE CASCADE; metric history has no foreign key (see 0001_tracking.sql). Deleting
        // the runs first waits for any LogBatch still holding a run's lock, so its points are seen.
        const runs = await tx.query<{ run_id: string }>("DELETE FROM runs WHERE experiment_id = $1 RETURNING run_id", [
          id,
        ]);
        if (runs.rows.length > 0) {
          await tx.query("DELETE FROM metrics WHERE run_id = ANY($1::text[])", [runs.rows.map((r) => r.run_id)]);
        }
        await tx.query("DELETE FROM experiments WHERE experiment_id = $1", [id]);
        return { artifactLocation: row.artifact_location };
      });
    },
  };
}

/**
 * INVALID_ARGUMENT (artifact_location) when `location` is another experiment's location, lies
 * inside one, or contains one: purging either experiment would then delete the other's files.
 * Locations are compared segment-wise (`a/b` overlaps `a/b/c`, not `a/bc`).
 */
async function refuseOverlap(tx: SqlQueryable, location: string): Promise<void> {
  const { rows } = await tx.query<{ experiment_id: string }>(
    `SELECT experiment_id FROM experiments
      WHERE starts_with($1 || '/', artifact_location || '/') OR starts_with(artifact_location || '/', $1 || '/')
      ORDER BY experiment_id LIMIT 1`,
    [location],
  );
  const other = rows[0]?.experiment_id;
  if (other !== undefined) {
    throw commonErrors.invalidArgument(
      "artifact_location",
      `overlaps the artifact location of experiment ${other}; give each experiment a location of its own`,
    );
  }
}

/**
 * Experiment ids are decimal BIGINTs in the database; anything else cannot name an experiment,
 * so it is NOT_FOUND rather than a database error.
 */
export function parseExperimentId(id: string): string {
  if (!/^\d{1,18}$/.test(id)) throw trackingErrors.experimentNotFound(id);
  return String(BigInt(id));
}

/**
 * Locks the experiment's row until the transaction ends (FOR UPDATE or FOR SHARE) and returns it;
 * TRACKING_EXPERIMENT_NOT_FOUND when it does not exist, TRACKING_EXPERIMENT_NOT_ACTIVE when it
 * must be active and is deleted.
 */
async function lockExperiment(
  tx: SqlQueryable,
  id: string,
  lock: "update" | "share",
  mustBeActive: boolean,
): Promise<ExperimentRow> {
  const { rows } = await tx.query<ExperimentRow>(
    `SELECT * FROM experiments WHERE experiment_id = $1 FOR ${lock === "update" ? "UPDATE" : "SHARE"}`,
    [id],
  );
  const row = rows[0];
  if (row === undefined) throw trackingErrors.experimentNotFound(id);
  if (mustBeActive && row.lifecycle_stage !== "active") throw trackingErrors.experimentNotActive(id);
  return row;
}

/** Locks a deleted experiment's row (restore, purge); TRACKING_EXPERIMENT_NOT_DELETED when it is active. */
async function lockDeletedExperiment(tx: SqlQueryable, id: string): Promise<ExperimentRow> {
  const row = await lockExperiment(tx, id, "update", false);
  if (row.lifecycle_stage !== "deleted") throw trackingErrors.experimentNotDeleted(id);
  return row;
}

/** Maps the violation of the active-name index to ALREADY_EXISTS; other errors pass through. */
function uniqueNameError(err: unknown, name: string): unknown {
  return err instanceof SqlConstraintError && err.constraint === experimentActiveNameKey
    ? trackingErrors.experimentAlreadyExists(name)
    : err;
}

function toExperiment(row: ExperimentRow, tags: Record<string, string>): Experiment {
  return create(ExperimentSchema, {
    experimentId: row.experiment_id,
    name: row.name,
    artifactLocation: row.artifact_location,
    lifecycleStage: lifecycleStage(row.lifecycle_stage),
    creationTime: BigInt(row.creation_time),
    lastUpdateTime: BigInt(row.last_update_time),
    tags,
  });
}
