import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { trackingErrors } from "../core/errors/tracking-errors.js";
import {
  type Experiment,
  ExperimentSchema,
  type FileInfo,
  FileInfoSchema,
  LifecycleStage,
  type Metric,
  MetricSchema,
  type Run,
  type RunInfo,
  RunInfoSchema,
  RunSchema,
  RunStatus,
} from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { decodePageToken, encodePageToken } from "../storage/query/page-token.js";
import { type SqlClient, SqlConstraintError, type SqlQueryable } from "../storage/sql/sql-client.js";
import { searchExperimentIds } from "./search/experiment-search.js";
import { searchRunIds } from "./search/run-search.js";
import type {
  CreateExperimentInput,
  CreateRunInput,
  LogBatchInput,
  MetricHistoryQuery,
  Page,
  SearchExperimentsQuery,
  SearchRunsQuery,
  TrackingStore,
  UpdateRunInput,
} from "./tracking-store.js";

/** Options of {@link SqlTrackingStore}. */
export interface SqlTrackingStoreOptions {
  /**
   * URI under which experiments get their default artifact location `<root>/<experiment id>`
   * (`file:///...` or `s3://bucket/prefix`). A trailing `/` is ignored.
   */
  readonly artifactRootUri: string;
}

/** Id and name of the experiment that exists in every database. */
const defaultExperimentId = "0";
const defaultExperimentName = "Default";

/** Page size of GetMetricHistory when the query gives none. */
const defaultMetricHistoryPageSize = 25_000;

const experimentActiveNameKey = "experiments_active_name_key";

interface ExperimentRow {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: string;
  last_update_time: string;
}

interface RunRow {
  run_id: string;
  experiment_id: string;
  run_name: string;
  status: string;
  start_time: string;
  end_time: string | null;
  lifecycle_stage: string;
  artifact_uri: string;
}

interface KeyValueRow {
  key: string;
  value: string;
}

interface MetricRow {
  key: string;
  value: number;
  step: string;
  timestamp: string;
}

const statusNames: Record<RunStatus, string | undefined> = {
  [RunStatus.UNSPECIFIED]: undefined,
  [RunStatus.RUNNING]: "RUNNING",
  [RunStatus.SCHEDULED]: "SCHEDULED",
  [RunStatus.FINISHED]: "FINISHED",
  [RunStatus.FAILED]: "FAILED",
  [RunStatus.KILLED]: "KILLED",
};

const terminalStatuses: ReadonlySet<RunStatus> = new Set([RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED]);

/**
 * The tracking store over SQL, the same statements for PGlite and PostgreSQL
 * (storage/sql/migrations/0001_tracking.sql). Multi-statement writes run in one transaction;
 * LogBatch stores its metrics with one set-based statement (`unnest` arrays) whatever the batch
 * size. BIGINT columns arrive as decimal strings from both drivers and become exact `bigint`s.
 * Search builds its SQL in tracking/search/; this store loads the objects it finds,
 * with a fixed number of queries per page.
 */
export class SqlTrackingStore implements TrackingStore {
  readonly #sql: SqlClient;
  readonly #artifactRootUri: string;

  constructor(sql: SqlClient, options: SqlTrackingStoreOptions) {
    this.#sql = sql;
    this.#artifactRootUri = options.artifactRootUri.replace(/\/+$/, "");
  }

  async ensureDefaultExperiment(): Promise<void> {
    const now = Date.now();
    // DO NOTHING without a target also covers an active experiment that took the name "Default".
    await this.#sql.query(
      `INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time)
       VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT DO NOTHING`,
      [defaultExperimentId, defaultExperimentName, `${this.#artifactRootUri}/${defaultExperimentId}`, now],
    );
  }

  async createExperiment(input: CreateExperimentInput): Promise<Experiment> {
    const now = Date.now();
    const tags = Object.entries(input.tags);
    try {
      return await this.#sql.transaction(async (tx) => {
        const { rows } = await tx.query<ExperimentRow>(
          `INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time)
           SELECT id, $1, COALESCE($2::text, $3::text || '/' || id::text), $4, $4
           FROM (SELECT nextval(pg_get_serial_sequence('experiments', 'experiment_id')) AS id) AS next_id
           RETURNING *`,
          [input.name, input.artifactLocation || null, this.#artifactRootUri, now],
        );
        const row = single(rows);
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
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const id = parseExperimentId(experimentId);
    const experiment = (await this.#loadExperiments([id])).get(id);
    if (experiment === undefined) throw trackingErrors.experimentNotFound(experimentId);
    return experiment;
  }

  async getExperimentByName(name: string): Promise<Experiment> {
    const { rows } = await this.#sql.query<{ experiment_id: string }>(
      `SELECT experiment_id FROM experiments WHERE name = $1
       ORDER BY lifecycle_stage = 'active' DESC, last_update_time DESC, experiment_id DESC
       LIMIT 1`,
      [name],
    );
    const id = rows[0]?.experiment_id;
    const experiment = id === undefined ? undefined : (await this.#loadExperiments([id])).get(id);
    if (experiment === undefined) throw trackingErrors.experimentNotFound(`named "${name}"`);
    return experiment;
  }

  async searchExperiments(query: SearchExperimentsQuery): Promise<Page<Experiment>> {
    const { experimentIds, nextPageToken } = await searchExperimentIds(this.#sql, query);
    const experiments = await this.#loadExperiments(experimentIds);
    return { items: inOrder(experimentIds, experiments), nextPageToken };
  }

  async renameExperiment(experimentId: string, newName: string): Promise<Experiment> {
    const id = parseExperimentId(experimentId);
    try {
      await this.#sql.transaction(async (tx) => {
        await lockActiveExperiment(tx, id, "update");
        await tx.query("UPDATE experiments SET name = $2, last_update_time = $3 WHERE experiment_id = $1", [
          id,
          newName,
          Date.now(),
        ]);
      });
    } catch (err) {
      throw uniqueNameError(err, newName);
    }
    return this.getExperiment(id);
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    const id = parseExperimentId(experimentId);
    await this.#sql.transaction(async (tx) => {
      await lockActiveExperiment(tx, id, "share");
      await tx.query(
        `INSERT INTO experiment_tags (experiment_id, key, value) VALUES ($1, $2, $3)
         ON CONFLICT (experiment_id, key) DO UPDATE SET value = EXCLUDED.value`,
        [id, key, value],
      );
    });
  }

  async deleteExperimentTag(experimentId: string, key: string): Promise<void> {
    const id = parseExperimentId(experimentId);
    await this.#sql.transaction(async (tx) => {
      await lockActiveExperiment(tx, id, "share");
      const { affectedRows } = await tx.query("DELETE FROM experiment_tags WHERE experiment_id = $1 AND key = $2", [
        id,
        key,
      ]);
      if (affectedRows === 0) throw trackingErrors.tagNotFound(key);
    });
  }

  /** Soft-deletes the experiment and its active runs; deleting a deleted experiment changes nothing. */
  async deleteExperiment(experimentId: string): Promise<void> {
    const id = parseExperimentId(experimentId);
    await this.#sql.transaction(async (tx) => {
      const stage = await lockExperiment(tx, id);
      if (stage === "deleted") return;
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
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    const id = parseExperimentId(experimentId);
    let name = "";
    try {
      await this.#sql.transaction(async (tx) => {
        const { rows } = await tx.query<{ name: string; lifecycle_stage: string }>(
          "SELECT name, lifecycle_stage FROM experiments WHERE experiment_id = $1 FOR UPDATE",
          [id],
        );
        const row = rows[0];
        if (row === undefined) throw trackingErrors.experimentNotFound(id);
        if (row.lifecycle_stage !== "deleted") throw trackingErrors.experimentNotDeleted(id);
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
  }

  async purgeExperiment(experimentId: string): Promise<{ artifactLocation: string }> {
    const id = parseExperimentId(experimentId);
    return this.#sql.transaction(async (tx) => {
      const { rows } = await tx.query<{ artifact_location: string; lifecycle_stage: string }>(
        "SELECT artifact_location, lifecycle_stage FROM experiments WHERE experiment_id = $1 FOR UPDATE",
        [id],
      );
      const row = rows[0];
      if (row === undefined) throw trackingErrors.experimentNotFound(id);
      if (row.lifecycle_stage !== "deleted") throw trackingErrors.experimentNotDeleted(id);
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
  }

  async createRun(input: CreateRunInput): Promise<Run> {
    const experimentId = parseExperimentId(input.experimentId === "" ? defaultExperimentId : input.experimentId);
    const runId = randomUUID().replaceAll("-", "");
    const runName = input.runName === "" ? `run-${runId.slice(0, 8)}` : input.runName;
    const startTime = input.startTime === 0 ? Date.now() : input.startTime;
    const tags = lastValueByKey(input.tags);
    const row = await this.#sql.transaction(async (tx) => {
      const { rows } = await tx.query<{ artifact_location: string; lifecycle_stage: string }>(
        "SELECT artifact_location, lifecycle_stage FROM experiments WHERE experiment_id = $1 FOR SHARE",
        [experimentId],
      );
      const experiment = rows[0];
      if (experiment === undefined) throw trackingErrors.experimentNotFound(experimentId);
      if (experiment.lifecycle_stage !== "active") throw trackingErrors.experimentNotActive(experimentId);
      const inserted = await tx.query<RunRow>(
        `INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, artifact_uri)
         VALUES ($1, $2, $3, 'RUNNING', $4, $5)
         RETURNING *`,
        [runId, experimentId, runName, startTime, `${experiment.artifact_location}/${runId}/artifacts`],
      );
      if (tags.size > 0) await upsertRunTags(tx, runId, tags);
      return single(inserted.rows);
    });
    return create(RunSchema, {
      info: toRunInfo(row),
      data: { metrics: [], params: {}, tags: Object.fromEntries(tags) },
    });
  }

  async getRun(runId: string): Promise<Run> {
    const run = (await this.#loadRuns([runId])).get(runId);
    if (run === undefined) throw trackingErrors.runNotFound(runId);
    return run;
  }

  async updateRun(runId: string, update: UpdateRunInput): Promise<RunInfo> {
    const status = update.status === undefined ? undefined : statusNames[update.status];
    const endTime =
      update.endTime ?? (update.status !== undefined && terminalStatuses.has(update.status) ? Date.now() : undefined);
    const row = await this.#sql.transaction(async (tx) => {
      await lockActiveRun(tx, runId, "no key update");
      const { rows } = await tx.query<RunRow>(
        `UPDATE runs SET status = COALESCE($2, status), end_time = COALESCE($3, end_time), run_name = COALESCE($4, run_name)
         WHERE run_id = $1
         RETURNING *`,
        [runId, status ?? null, endTime ?? null, update.runName ?? null],
      );
      return single(rows);
    });
    return toRunInfo(row);
  }

  /** Soft-deletes the run; deleting a deleted run changes nothing. */
  async deleteRun(runId: string): Promise<void> {
    const { affectedRows } = await this.#sql.query(
      `UPDATE runs SET lifecycle_stage = 'deleted', deleted_with_experiment = FALSE
       WHERE run_id = $1 AND lifecycle_stage = 'active'`,
      [runId],
    );
    if (affectedRows === 0) await this.#requireRun(runId);
  }

  async restoreRun(runId: string): Promise<void> {
    await this.#sql.transaction(async (tx) => {
      const { rows } = await tx.query<{ lifecycle_stage: string; experiment_id: string; experiment_stage: string }>(
        `SELECT r.lifecycle_stage, r.experiment_id, e.lifecycle_stage AS experiment_stage
         FROM runs r JOIN experiments e USING (experiment_id)
         WHERE r.run_id = $1
         FOR UPDATE OF r`,
        [runId],
      );
      const row = rows[0];
      if (row === undefined) throw trackingErrors.runNotFound(runId);
      if (row.lifecycle_stage !== "deleted") throw trackingErrors.runNotDeleted(runId);
      if (row.experiment_stage !== "active") throw trackingErrors.experimentNotActive(row.experiment_id);
      await tx.query("UPDATE runs SET lifecycle_stage = 'active', deleted_with_experiment = FALSE WHERE run_id = $1", [
        runId,
      ]);
    });
  }

  async deleteRunTag(runId: string, key: string): Promise<void> {
    await this.#sql.transaction(async (tx) => {
      await lockActiveRun(tx, runId, "key share");
      const { affectedRows } = await tx.query("DELETE FROM run_tags WHERE run_id = $1 AND key = $2", [runId, key]);
      if (affectedRows === 0) throw trackingErrors.tagNotFound(key);
    });
  }

  async logBatch(runId: string, batch: LogBatchInput): Promise<{ duplicate: boolean }> {
    const params = distinctParams(batch.params);
    const tags = lastValueByKey(batch.tags);
    // The hot path of training code: metrics only. One statement (atomic on its own) does what the
    // transaction below does in five round trips, which is what bounds ingest throughput.
    if (params.size === 0 && tags.size === 0) return logMetricsOnly(this.#sql, runId, batch);
    return this.#sql.transaction(async (tx) => {
      await lockActiveRun(tx, runId, "key share");
      if (batch.batchId !== "") {
        // Concurrent retries of one batch serialize on this row: the second waits for the first
        // to commit, then inserts nothing and stores nothing.
        const { affectedRows } = await tx.query(
          `INSERT INTO log_batches (run_id, batch_id, created_time) VALUES ($1, $2, $3)
           ON CONFLICT (run_id, batch_id) DO NOTHING`,
          [runId, batch.batchId, Date.now()],
        );
        if (affectedRows === 0) return { duplicate: true };
      }
      if (params.size > 0) await insertParams(tx, runId, params);
      if (tags.size > 0) await upsertRunTags(tx, runId, tags);
      if (batch.metrics.length > 0) await insertMetrics(tx, runId, batch.metrics);
      return { duplicate: false };
    });
  }

  async getMetricHistory(query: MetricHistoryQuery): Promise<Page<Metric>> {
    const limit = query.maxResults > 0 ? query.maxResults : defaultMetricHistoryPageSize;
    // A token resumes after the (step, timestamp, seq) of the previous page's last point, and is
    // valid only for the run and key that issued it.
    const tokenScope = metricHistoryTokenScope(query);
    const after =
      query.pageToken === "" ? undefined : decodePageToken(query.pageToken, tokenScope, ["bigint", "bigint", "bigint"]);
    // Two statements rather than one with "$3 IS NULL OR ...": the row comparison must stand
    // alone for the primary key index to start the scan at the cursor.
    const select = "SELECT key, value, step, timestamp, seq FROM metrics WHERE run_id = $1 AND key = $2";
    const { rows } =
      after === undefined
        ? await this.#sql.query<MetricRow & { seq: string }>(`${select} ORDER BY step, timestamp, seq LIMIT $3`, [
            query.runId,
            query.key,
            limit + 1,
          ])
        : await this.#sql.query<MetricRow & { seq: string }>(
            `${select} AND (step, timestamp, seq) > ($3, $4, $5) ORDER BY step, timestamp, seq LIMIT $6`,
            [query.runId, query.key, ...after, limit + 1],
          );
    if (rows.length === 0 && after === undefined) await this.#requireRun(query.runId);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextPageToken =
      rows.length > limit && last !== undefined
        ? encodePageToken(tokenScope, [last.step, last.timestamp, last.seq])
        : "";
    return { items: page.map(toMetric), nextPageToken };
  }

  async searchRuns(query: SearchRunsQuery): Promise<Page<Run>> {
    const { runIds, nextPageToken } = await searchRunIds(this.#sql, query);
    const runs = await this.#loadRuns(runIds);
    return { items: inOrder(runIds, runs), nextPageToken };
  }

  async recordArtifact(runId: string, file: { path: string; size: number; sha256: string }): Promise<void> {
    await this.#sql.transaction(async (tx) => {
      await lockActiveRun(tx, runId, "key share");
      await tx.query(
        `INSERT INTO run_artifacts (run_id, path, file_size, sha256, updated_time) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (run_id, path)
         DO UPDATE SET file_size = EXCLUDED.file_size, sha256 = EXCLUDED.sha256, updated_time = EXCLUDED.updated_time`,
        [runId, file.path, file.size, file.sha256, Date.now()],
      );
    });
  }

  async getArtifact(runId: string, path: string): Promise<FileInfo | undefined> {
    const { rows } = await this.#sql.query<{ file_size: string; sha256: string }>(
      "SELECT file_size, sha256 FROM run_artifacts WHERE run_id = $1 AND path = $2",
      [runId, path],
    );
    const row = rows[0];
    if (row === undefined) {
      await this.#requireRun(runId);
      return undefined;
    }
    return create(FileInfoSchema, { path, isDir: false, fileSize: BigInt(row.file_size), sha256: row.sha256 });
  }

  async listArtifacts(runId: string, dir: string): Promise<FileInfo[]> {
    const prefix = dir === "" || dir.endsWith("/") ? dir : `${dir}/`;
    // Each file under the prefix is a direct child, or stands for the directory of its first
    // segment below the prefix. starts_with() rather than LIKE: paths may contain % and _.
    const { rows } = await this.#sql.query<{
      path: string;
      is_dir: boolean;
      file_size: string | null;
      sha256: string | null;
    }>(
      `SELECT DISTINCT ON (path, is_dir) path, is_dir,
              CASE WHEN is_dir THEN NULL ELSE file_size END AS file_size,
              CASE WHEN is_dir THEN NULL ELSE sha256 END AS sha256
       FROM (
         SELECT CASE WHEN strpos(rest, '/') > 0 THEN $2 || split_part(rest, '/', 1) ELSE path END AS path,
                strpos(rest, '/') > 0 AS is_dir, file_size, sha256
         FROM (
           SELECT path, substr(path, length($2) + 1) AS rest, file_size, sha256
           FROM run_artifacts WHERE run_id = $1 AND starts_with(path, $2)
         ) AS below
       ) AS children
       ORDER BY path, is_dir`,
      [runId, prefix],
    );
    if (rows.length === 0) await this.#requireRun(runId);
    return rows.map((r) =>
      create(FileInfoSchema, {
        path: r.path,
        isDir: r.is_dir,
        fileSize: r.file_size === null ? 0n : BigInt(r.file_size),
        sha256: r.sha256 ?? "",
      }),
    );
  }

  /**
   * Closes the SQL client the store was given (app/registry-server.ts closes the tracking
   * store last, after the other users of the client). Closing twice is harmless.
   */
  async close(): Promise<void> {
    await this.#sql.close();
  }

  /** Throws TRACKING_RUN_NOT_FOUND unless the run exists (active or deleted). */
  async #requireRun(runId: string): Promise<void> {
    const { rows } = await this.#sql.query("SELECT 1 FROM runs WHERE run_id = $1", [runId]);
    if (rows.length === 0) throw trackingErrors.runNotFound(runId);
  }

  /** Experiments with their tags, by id; ids that do not exist are absent. Two queries. */
  async #loadExperiments(ids: readonly string[]): Promise<Map<string, Experiment>> {
    const result = new Map<string, Experiment>();
    if (ids.length === 0) return result;
    const [experiments, tags] = await Promise.all([
      this.#sql.query<ExperimentRow>("SELECT * FROM experiments WHERE experiment_id = ANY($1::bigint[])", [ids]),
      this.#sql.query<KeyValueRow & { experiment_id: string }>(
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

  /** Runs with their params, latest metrics and tags, by id; ids that do not exist are absent. Four queries. */
  async #loadRuns(ids: readonly string[]): Promise<Map<string, Run>> {
    const result = new Map<string, Run>();
    if (ids.length === 0) return result;
    const [runs, params, metrics, tags] = await Promise.all([
      this.#sql.query<RunRow>("SELECT * FROM runs WHERE run_id = ANY($1::text[])", [ids]),
      this.#sql.query<KeyValueRow & { run_id: string }>(
        "SELECT run_id, key, value FROM params WHERE run_id = ANY($1::text[]) ORDER BY key",
        [ids],
      ),
      this.#sql.query<MetricRow & { run_id: string }>(
        "SELECT run_id, key, value, step, timestamp FROM latest_metrics WHERE run_id = ANY($1::text[]) ORDER BY key",
        [ids],
      ),
      this.#sql.query<KeyValueRow & { run_id: string }>(
        "SELECT run_id, key, value FROM run_tags WHERE run_id = ANY($1::text[]) ORDER BY key",
        [ids],
      ),
    ]);
    const paramsById = groupKeyValues(params.rows, (r) => r.run_id);
    const tagsById = groupKeyValues(tags.rows, (r) => r.run_id);
    const metricsById = new Map<string, Metric[]>();
    for (const row of metrics.rows) {
      const list = metricsById.get(row.run_id);
      if (list === undefined) metricsById.set(row.run_id, [toMetric(row)]);
      else list.push(toMetric(row));
    }
    for (const row of runs.rows) {
      result.set(
        row.run_id,
        create(RunSchema, {
          info: toRunInfo(row),
          data: {
            metrics: metricsById.get(row.run_id) ?? [],
            params: paramsById.get(row.run_id) ?? {},
            tags: tagsById.get(row.run_id) ?? {},
          },
        }),
      );
    }
    return result;
  }
}

/**
 * Experiment ids are decimal BIGINTs in the database; anything else cannot name an experiment,
 * so it is NOT_FOUND rather than a database error.
 */
function parseExperimentId(id: string): string {
  if (!/^\d{1,18}$/.test(id)) throw trackingErrors.experimentNotFound(id);
  return String(BigInt(id));
}

/** Locks the experiment row and returns its lifecycle stage; NOT_FOUND when it does not exist. */
async function lockExperiment(tx: SqlQueryable, id: string): Promise<string> {
  const { rows } = await tx.query<{ lifecycle_stage: string }>(
    "SELECT lifecycle_stage FROM experiments WHERE experiment_id = $1 FOR UPDATE",
    [id],
  );
  const row = rows[0];
  if (row === undefined) throw trackingErrors.experimentNotFound(id);
  return row.lifecycle_stage;
}

/** Locks an active experiment's row; NOT_FOUND or EXPERIMENT_NOT_ACTIVE otherwise. */
async function lockActiveExperiment(tx: SqlQueryable, id: string, lock: "update" | "share"): Promise<void> {
  const { rows } = await tx.query<{ lifecycle_stage: string }>(
    `SELECT lifecycle_stage FROM experiments WHERE experiment_id = $1 FOR ${lock === "update" ? "UPDATE" : "SHARE"}`,
    [id],
  );
  const row = rows[0];
  if (row === undefined) throw trackingErrors.experimentNotFound(id);
  if (row.lifecycle_stage !== "active") throw trackingErrors.experimentNotActive(id);
}

/**
 * Checks that the run exists and is active (RUN_NOT_FOUND / RUN_NOT_ACTIVE otherwise), locking
 * its row until the transaction ends. Writers of a run's data take KEY SHARE: it keeps the run
 * from being purged under them (metric history has no foreign key) without queueing concurrent
 * batches of the run, or an update of its status (NO KEY UPDATE), behind each other.
 */
async function lockActiveRun(tx: SqlQueryable, runId: string, lock: "no key update" | "key share"): Promise<void> {
  const { rows } = await tx.query<{ lifecycle_stage: string }>(
    `SELECT lifecycle_stage FROM runs WHERE run_id = $1 FOR ${lock.toUpperCase()}`,
    [runId],
  );
  const row = rows[0];
  if (row === undefined) throw trackingErrors.runNotFound(runId);
  if (row.lifecycle_stage !== "active") throw trackingErrors.runNotActive(runId);
}

/**
 * Inserts params that are new and checks the others against what is stored: params are
 * immutable. The check runs after the insert, so a concurrent batch that logged the same key
 * first (and committed) is seen and a different value is rejected.
 */
async function insertParams(tx: SqlQueryable, runId: string, params: ReadonlyMap<string, string>): Promise<void> {
  const keys = [...params.keys()];
  const { affectedRows } = await tx.query(
    `INSERT INTO params (run_id, key, value)
     SELECT $1, key, value FROM unnest($2::text[], $3::text[]) AS p(key, value)
     ON CONFLICT (run_id, key) DO NOTHING`,
    [runId, keys, [...params.values()]],
  );
  if (affectedRows === keys.length) return;
  const { rows } = await tx.query<KeyValueRow>(
    "SELECT key, value FROM params WHERE run_id = $1 AND key = ANY($2::text[]) ORDER BY key",
    [runId, keys],
  );
  for (const row of rows) {
    const logged = params.get(row.key);
    if (logged !== undefined && logged !== row.value) throw trackingErrors.paramChanged(row.key, row.value, logged);
  }
}

/** Sets run tags, replacing values of existing keys. */
async function upsertRunTags(tx: SqlQueryable, runId: string, tags: ReadonlyMap<string, string>): Promise<void> {
  await tx.query(
    `INSERT INTO run_tags (run_id, key, value)
     SELECT $1, key, value FROM unnest($2::text[], $3::text[]) AS t(key, value)
     ON CONFLICT (run_id, key) DO UPDATE SET value = EXCLUDED.value`,
    [runId, [...tags.keys()], [...tags.values()]],
  );
}

/**
 * Appends metric points to the history and advances latest_metrics in one statement whatever the
 * number of points (the arrays cross the wire and are parsed once). The batch is reduced to its
 * latest point per key (DISTINCT ON, in key order so concurrent batches lock rows in the same
 * order); a stored point is replaced only by one with a (step, timestamp) at least as high, so
 * the last logged wins ties.
 */
async function insertMetrics(tx: SqlQueryable, runId: string, metrics: readonly Metric[]): Promise<void> {
  await tx.query(
    `WITH points AS (
       SELECT * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::float8[]) WITH ORDINALITY
         AS p(key, step, ts, value, ord)
     ), history AS (
       INSERT INTO metrics (run_id, key, step, timestamp, value)
       SELECT $1, key, step, ts, value FROM points ORDER BY ord
     )
     INSERT INTO latest_metrics (run_id, key, step, timestamp, value)
     SELECT DISTINCT ON (key) $1, key, step, ts, value FROM points
     ORDER BY key, step DESC, ts DESC, ord DESC
     ON CONFLICT (run_id, key) DO UPDATE
       SET step = EXCLUDED.step, timestamp = EXCLUDED.timestamp, value = EXCLUDED.value
       WHERE (EXCLUDED.step, EXCLUDED.timestamp) >= (latest_metrics.step, latest_metrics.timestamp)`,
    [runId, ...metricArrays(metrics)],
  );
}

/** Columns of a metrics batch as the arrays the unnest statements take; timestamp 0 means now. */
function metricArrays(metrics: readonly Metric[]): [string[], string[], string[], number[]] {
  const now = BigInt(Date.now());
  const keys: string[] = [];
  const values: number[] = [];
  const steps: string[] = [];
  const timestamps: string[] = [];
  for (const m of metrics) {
    keys.push(m.key);
    values.push(m.value);
    steps.push(m.step.toString());
    timestamps.push((m.timestamp === 0n ? now : m.timestamp).toString());
  }
  return [keys, steps, timestamps, values];
}

/**
 * LogBatch without params or tags in a single statement: locks the run (key share, as the
 * transaction path does), claims the batch id, appends the history and advances latest_metrics,
 * or does none of it. Concurrent retries of one batch id serialize on the log_batches key: the
 * later one finds it taken and stores nothing.
 */
async function logMetricsOnly(sql: SqlQueryable, runId: string, batch: LogBatchInput): Promise<{ duplicate: boolean }> {
  const { rows } = await sql.query<{ stage: string | null; stored: boolean }>(
    `WITH run AS (
       SELECT lifecycle_stage FROM runs WHERE run_id = $1 FOR KEY SHARE
     ), claim AS (
       INSERT INTO log_batches (run_id, batch_id, created_time)
       SELECT $1, $6, $7 FROM run WHERE lifecycle_stage = 'active' AND $6 <> ''
       ON CONFLICT (run_id, batch_id) DO NOTHING
       RETURNING 1
     ), go AS (
       SELECT 1 FROM run WHERE lifecycle_stage = 'active' AND ($6 = '' OR EXISTS (SELECT 1 FROM claim))
     ), points AS (
       SELECT * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::float8[]) WITH ORDINALITY
         AS p(key, step, ts, value, ord)
        WHERE EXISTS (SELECT 1 FROM go)
     ), history AS (
       INSERT INTO metrics (run_id, key, step, timestamp, value)
       SELECT $1, key, step, ts, value FROM points ORDER BY ord
     ), latest AS (
       INSERT INTO latest_metrics (run_id, key, step, timestamp, value)
       SELECT DISTINCT ON (key) $1, key, step, ts, value FROM points
       ORDER BY key, step DESC, ts DESC, ord DESC
       ON CONFLICT (run_id, key) DO UPDATE
         SET step = EXCLUDED.step, timestamp = EXCLUDED.timestamp, value = EXCLUDED.value
         WHERE (EXCLUDED.step, EXCLUDED.timestamp) >= (latest_metrics.step, latest_metrics.timestamp)
     )
     SELECT (SELECT lifecycle_stage FROM run) AS stage, EXISTS (SELECT 1 FROM go) AS stored`,
    [runId, ...metricArrays(batch.metrics), batch.batchId, Date.now()],
  );
  const row = rows[0];
  if (row === undefined || row.stage === null) throw trackingErrors.runNotFound(runId);
  if (row.stage !== "active") throw trackingErrors.runNotActive(runId);
  return { duplicate: !row.stored };
}

/** Params of one batch by key; one key twice with different values is already a changed param. */
function distinctParams(params: readonly { key: string; value: string }[]): Map<string, string> {
  const byKey = new Map<string, string>();
  for (const p of params) {
    const seen = byKey.get(p.key);
    if (seen !== undefined && seen !== p.value) throw trackingErrors.paramChanged(p.key, seen, p.value);
    byKey.set(p.key, p.value);
  }
  return sortedByKey(byKey);
}

/** Tags by key, the last of a repeated key winning (as if set one after the other). */
function lastValueByKey(tags: readonly { key: string; value: string }[]): Map<string, string> {
  return sortedByKey(new Map(tags.map((t) => [t.key, t.value])));
}

/**
 * The map in key order. Rows are written in this order, so concurrent batches of one run that
 * share keys lock them in the same order and cannot deadlock.
 */
function sortedByKey(map: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function groupKeyValues<R extends KeyValueRow>(
  rows: readonly R[],
  owner: (row: R) => string,
): Map<string, Record<string, string>> {
  const grouped = new Map<string, Record<string, string>>();
  for (const row of rows) {
    const id = owner(row);
    let record = grouped.get(id);
    if (record === undefined) {
      record = {};
      grouped.set(id, record);
    }
    record[row.key] = row.value;
  }
  return grouped;
}

/** The loaded objects in the order of `ids`, skipping any removed between search and load. */
function inOrder<T>(ids: readonly string[], byId: ReadonlyMap<string, T>): T[] {
  const items: T[] = [];
  for (const id of ids) {
    const item = byId.get(id);
    if (item !== undefined) items.push(item);
  }
  return items;
}

function single<R>(rows: readonly R[]): R {
  const row = rows[0];
  if (row === undefined) throw new Error("statement returned no row");
  return row;
}

/** Maps the violation of the active-name index to ALREADY_EXISTS; other errors pass through. */
function uniqueNameError(err: unknown, name: string): unknown {
  return err instanceof SqlConstraintError && err.constraint === experimentActiveNameKey
    ? trackingErrors.experimentAlreadyExists(name)
    : err;
}

function lifecycleStage(stage: string): LifecycleStage {
  return stage === "deleted" ? LifecycleStage.DELETED : LifecycleStage.ACTIVE;
}

function runStatus(status: string): RunStatus {
  switch (status) {
    case "RUNNING":
      return RunStatus.RUNNING;
    case "SCHEDULED":
      return RunStatus.SCHEDULED;
    case "FINISHED":
      return RunStatus.FINISHED;
    case "FAILED":
      return RunStatus.FAILED;
    case "KILLED":
      return RunStatus.KILLED;
    default:
      return RunStatus.UNSPECIFIED;
  }
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

function toRunInfo(row: RunRow): RunInfo {
  return create(RunInfoSchema, {
    runId: row.run_id,
    experimentId: row.experiment_id,
    runName: row.run_name,
    status: runStatus(row.status),
    startTime: BigInt(row.start_time),
    ...(row.end_time === null ? {} : { endTime: BigInt(row.end_time) }),
    lifecycleStage: lifecycleStage(row.lifecycle_stage),
    artifactUri: row.artifact_uri,
  });
}

function toMetric(row: MetricRow): Metric {
  return create(MetricSchema, {
    key: row.key,
    value: row.value,
    step: BigInt(row.step),
    timestamp: BigInt(row.timestamp),
  });
}

/** What a metric history page token is bound to: a token of another run or key is rejected. */
function metricHistoryTokenScope(query: MetricHistoryQuery): string {
  return JSON.stringify(["metric-history", query.runId, query.key]);
}
