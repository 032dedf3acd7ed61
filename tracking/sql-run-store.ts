/**
 * Runs over SQL: create (in an active experiment), read with their params, latest metrics and
 * tags, update, soft delete, restore, delete a tag, search. Part of the tracking store
 * (sql-tracking-store.ts).
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { trackingErrors } from "../core/errors/tracking-errors.js";
import { type Metric, type Run, RunSchema, RunStatus } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { inPageOrder } from "../storage/query/keyset-search.js";
import { singleRow } from "../storage/sql/single-row.js";
import type { SqlClient } from "../storage/sql/sql-client.js";
import { searchRunIds } from "./search/run-search.js";
import { defaultExperimentId, parseExperimentId } from "./sql-experiment-store.js";
import {
  groupKeyValues,
  type KeyValueRow,
  lastValueByKey,
  lockActiveRun,
  type MetricRow,
  type RunRow,
  requireRun,
  statusName,
  toMetric,
  toRunInfo,
  upsertRunTags,
} from "./sql-run-rows.js";
import type { RunStore } from "./tracking-store.js";

const terminalStatuses: ReadonlySet<RunStatus> = new Set([RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED]);

/** The runs aggregate of the tracking store, over a migrated database. */
export function createSqlRunStore(sql: SqlClient): RunStore {
  /** Runs with their params, latest metrics and tags, by id; ids that do not exist are absent. Four queries. */
  async function loadRuns(ids: readonly string[]): Promise<Map<string, Run>> {
    const result = new Map<string, Run>();
    if (ids.length === 0) return result;
    const [runs, params, metrics, tags] = await Promise.all([
      sql.query<RunRow>("SELECT * FROM runs WHERE run_id = ANY($1::text[])", [ids]),
      sql.query<KeyValueRow & { run_id: string }>(
        "SELECT run_id, key, value FROM params WHERE run_id = ANY($1::text[]) ORDER BY key",
        [ids],
      ),
      sql.query<MetricRow & { run_id: string }>(
        "SELECT run_id, key, value, step, timestamp FROM latest_metrics WHERE run_id = ANY($1::text[]) ORDER BY key",
        [ids],
      ),
      sql.query<KeyValueRow & { run_id: string }>(
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

  return {
    async createRun(input) {
      const experimentId = parseExperimentId(input.experimentId === "" ? defaultExperimentId : input.experimentId);
      const runId = randomUUID().replaceAll("-", "");
      const runName = input.runName === "" ? `run-${runId.slice(0, 8)}` : input.runName;
      const startTime = input.startTime === 0 ? Date.now() : input.startTime;
      const tags = lastValueByKey(input.tags);
      const row = await sql.transaction(async (tx) => {
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
        return singleRow(inserted.rows);
      });
      return create(RunSchema, {
        info: toRunInfo(row),
        data: { metrics: [], params: {}, tags: Object.fromEntries(tags) },
      });
    },

    async getRun(runId) {
      const run = (await loadRuns([runId])).get(runId);
      if (run === undefined) throw trackingErrors.runNotFound(runId);
      return run;
    },

    async updateRun(runId, update) {
      const status = update.status === undefined ? undefined : statusName(update.status);
      const endTime =
        update.endTime ?? (update.status !== undefined && terminalStatuses.has(update.status) ? Date.now() : undefined);
      const row = await sql.transaction(async (tx) => {
        await lockActiveRun(tx, runId, "no key update");
        const { rows } = await tx.query<RunRow>(
          `UPDATE runs SET status = COALESCE($2, status), end_time = COALESCE($3, end_time), run_name = COALESCE($4, run_name)
           WHERE run_id = $1
           RETURNING *`,
          [runId, status ?? null, endTime ?? null, update.runName ?? null],
        );
        return singleRow(rows);
      });
      return toRunInfo(row);
    },

    async deleteRun(runId) {
      const { affectedRows } = await sql.query(
        `UPDATE runs SET lifecycle_stage = 'deleted', deleted_with_experiment = FALSE
         WHERE run_id = $1 AND lifecycle_stage = 'active'`,
        [runId],
      );
      if (affectedRows === 0) await requireRun(sql, runId);
    },

    async restoreRun(runId) {
      await sql.transaction(async (tx) => {
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
        await tx.query(
          "UPDATE runs SET lifecycle_stage = 'active', deleted_with_experiment = FALSE WHERE run_id = $1",
          [runId],
        );
      });
    },

    async deleteRunTag(runId, key) {
      await sql.transaction(async (tx) => {
        await lockActiveRun(tx, runId, "key share");
        const { affectedRows } = await tx.query("DELETE FROM run_tags WHERE run_id = $1 AND key = $2", [runId, key]);
        if (affectedRows === 0) throw trackingErrors.tagNotFound(key);
      });
    },

    async searchRuns(query) {
      const { runIds, nextPageToken } = await searchRunIds(sql, query);
      const runs = await loadRuns(runIds);
      return { items: inPageOrder(runIds, runs), nextPageToken };
    },
  };
}
