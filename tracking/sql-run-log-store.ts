/**
 * What is logged to runs, over SQL: LogBatch (metrics, params, tags; idempotent with a batch id)
 * and metric history pages. Part of the tracking store (sql-tracking-store.ts). LogBatch stores
 * its metrics with one set-based statement (`unnest` arrays) whatever the batch size.
 */
import { trackingErrors } from "../core/errors/tracking-errors.js";
import type { Metric } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { decodePageToken, encodePageToken } from "../storage/query/page-token.js";
import type { SqlClient, SqlQueryable } from "../storage/sql/sql-client.js";
import { pageSizes } from "./page-sizes.js";
import {
  type KeyValueRow,
  lastValueByKey,
  lockActiveRun,
  type MetricRow,
  requireRun,
  sortedByKey,
  toMetric,
  upsertRunTags,
} from "./sql-run-rows.js";
import type { LogBatchInput, MetricHistoryQuery, RunLogStore } from "./tracking-store.js";

/** The run-logging aggregate of the tracking store, over a migrated database. */
export function createSqlRunLogStore(sql: SqlClient): RunLogStore {
  return {
    async logBatch(runId, batch) {
      const params = distinctParams(batch.params);
      const tags = lastValueByKey(batch.tags);
      // The hot path of training code: metrics only. One statement (atomic on its own) does what the
      // transaction below does in five round trips, which is what bounds ingest throughput.
      if (params.size === 0 && tags.size === 0) return logMetricsOnly(sql, runId, batch);
      return sql.transaction(async (tx) => {
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
    },

    async getMetricHistory(query) {
      const limit = query.maxResults > 0 ? query.maxResults : pageSizes.metricHistory.default;
      // A token resumes after the (step, timestamp, seq) of the previous page's last point, and is
      // valid only for the run and key that issued it.
      const tokenScope = metricHistoryTokenScope(query);
      const after =
        query.pageToken === ""
          ? undefined
          : decodePageToken(query.pageToken, tokenScope, ["bigint", "bigint", "bigint"]);
      // Two statements rather than one with "$3 IS NULL OR ...": the row comparison must stand
      // alone for the primary key index to start the scan at the cursor.
      const select = "SELECT key, value, step, timestamp, seq FROM metrics WHERE run_id = $1 AND key = $2";
      const { rows } =
        after === undefined
          ? await sql.query<MetricRow & { seq: string }>(`${select} ORDER BY step, timestamp, seq LIMIT $3`, [
              query.runId,
              query.key,
              limit + 1,
            ])
          : await sql.query<MetricRow & { seq: string }>(
              `${select} AND (step, timestamp, seq) > ($3, $4, $5) ORDER BY step, timestamp, seq LIMIT $6`,
              [query.runId, query.key, ...after, limit + 1],
            );
      if (rows.length === 0 && after === undefined) await requireRun(sql, query.runId);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const nextPageToken =
        rows.length > limit && last !== undefined
          ? encodePageToken(tokenScope, [last.step, last.timestamp, last.seq])
          : "";
      return { items: page.map(toMetric), nextPageToken };
    },
  };
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

/**
 * The statement parts that store a batch of metric points ($1 the run id, $2..$5 the arrays of
 * {@link metricArrays}), whatever their number (the arrays cross the wire and are parsed once):
 * `points` unnests them (`where` may gate them), `history` appends them to the history, and
 * `advanceLatest` moves latest_metrics forward. The batch is reduced to its latest point per key
 * (DISTINCT ON, in key order so concurrent batches lock rows in the same order); a stored point is
 * replaced only by one with a (step, timestamp) at least as high, so the last logged wins ties.
 */
const metricWrites = {
  points: (where: string) => `points AS (
       SELECT * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::float8[]) WITH ORDINALITY
         AS p(key, step, ts, value, ord) ${where}
     )`,
  history: `history AS (
       INSERT INTO metrics (run_id, key, step, timestamp, value)
       SELECT $1, key, step, ts, value FROM points ORDER BY ord
     )`,
  advanceLatest: `INSERT INTO latest_metrics (run_id, key, step, timestamp, value)
     SELECT DISTINCT ON (key) $1, key, step, ts, value FROM points
     ORDER BY key, step DESC, ts DESC, ord DESC
     ON CONFLICT (run_id, key) DO UPDATE
       SET step = EXCLUDED.step, timestamp = EXCLUDED.timestamp, value = EXCLUDED.value
       WHERE (EXCLUDED.step, EXCLUDED.timestamp) >= (latest_metrics.step, latest_metrics.timestamp)`,
};

const insertMetricsSql = `WITH ${metricWrites.points("")}, ${metricWrites.history}
     ${metricWrites.advanceLatest}`;

/** Appends metric points to the history and advances latest_metrics, in one statement. */
async function insertMetrics(tx: SqlQueryable, runId: string, metrics: readonly Metric[]): Promise<void> {
  await tx.query(insertMetricsSql, [runId, ...metricArrays(metrics)]);
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

/** LogBatch without params or tags as one statement: see {@link logMetricsOnly}. */
const logMetricsOnlySql = `WITH run AS (
       SELECT lifecycle_stage FROM runs WHERE run_id = $1 FOR KEY SHARE
     ), claim AS (
       INSERT INTO log_batches (run_id, batch_id, created_time)
       SELECT $1, $6, $7 FROM run WHERE lifecycle_stage = 'active' AND $6 <> ''
       ON CONFLICT (run_id, batch_id) DO NOTHING
       RETURNING 1
     ), go AS (
       SELECT 1 FROM run WHERE lifecycle_stage = 'active' AND ($6 = '' OR EXISTS (SELECT 1 FROM claim))
     ), ${metricWrites.points("WHERE EXISTS (SELECT 1 FROM go)")}, ${metricWrites.history}, latest AS (
       ${metricWrites.advanceLatest}
     )
     SELECT (SELECT lifecycle_stage FROM run) AS stage, EXISTS (SELECT 1 FROM go) AS stored`;

/**
 * LogBatch without params or tags in a single statement: locks the run (key share, as the
 * transaction path does), claims the batch id, appends the history and advances latest_metrics,
 * or does none of it. Concurrent retries of one batch id serialize on the log_batches key: the
 * later one finds it taken and stores nothing.
 */
async function logMetricsOnly(sql: SqlQueryable, runId: string, batch: LogBatchInput): Promise<{ duplicate: boolean }> {
  const { rows } = await sql.query<{ stage: string | null; stored: boolean }>(logMetricsOnlySql, [
    runId,
    ...metricArrays(batch.metrics),
    batch.batchId,
    Date.now(),
  ]);
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

/** What a metric history page token is bound to: a token of another run or key is rejected. */
function metricHistoryTokenScope(query: MetricHistoryQuery): string {
  return JSON.stringify(["metric-history", query.runId, query.key]);
}
