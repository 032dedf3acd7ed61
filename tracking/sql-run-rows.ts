/**
 * The rows of the tracking tables as the SQL stores read them, how they become protobuf
 * messages, and the run checks every aggregate that writes to a run shares
 * (storage/sql/migrations/0001_tracking.sql). BIGINT columns arrive as decimal strings from both
 * drivers and become exact `bigint`s.
 */
import { create } from "@bufbuild/protobuf";
import { trackingErrors } from "../core/errors/tracking-errors.js";
import {
  LifecycleStage,
  type Metric,
  MetricSchema,
  type RunInfo,
  RunInfoSchema,
  RunStatus,
} from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import type { SqlQueryable } from "../storage/sql/sql-client.js";

/** A row of `runs`. */
export interface RunRow {
  run_id: string;
  experiment_id: string;
  run_name: string;
  status: string;
  start_time: string;
  end_time: string | null;
  lifecycle_stage: string;
  artifact_uri: string;
}

/** A key and its value (params, tags). */
export interface KeyValueRow {
  key: string;
  value: string;
}

/** A metric point of `metrics` or `latest_metrics`. */
export interface MetricRow {
  key: string;
  value: number;
  step: string;
  timestamp: string;
}

/** Each run status with its stored name (`runs.status`); one table both ways. */
const statusPairs: ReadonlyArray<readonly [RunStatus, string]> = [
  [RunStatus.RUNNING, "RUNNING"],
  [RunStatus.SCHEDULED, "SCHEDULED"],
  [RunStatus.FINISHED, "FINISHED"],
  [RunStatus.FAILED, "FAILED"],
  [RunStatus.KILLED, "KILLED"],
];

/** The statuses a run can have, as stored. */
export const runStatuses: readonly string[] = statusPairs.map(([, name]) => name);

/** The stored name of a status; undefined for UNSPECIFIED (no change). */
export function statusName(status: RunStatus): string | undefined {
  return statusPairs.find(([s]) => s === status)?.[1];
}

/** The enum of a stored lifecycle stage ("active" or "deleted"). */
export function lifecycleStage(stage: string): LifecycleStage {
  return stage === "deleted" ? LifecycleStage.DELETED : LifecycleStage.ACTIVE;
}

function runStatus(name: string): RunStatus {
  return statusPairs.find(([, n]) => n === name)?.[0] ?? RunStatus.UNSPECIFIED;
}

/** The info of a run row. */
export function toRunInfo(row: RunRow): RunInfo {
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

/** A metric point of a row. */
export function toMetric(row: MetricRow): Metric {
  return create(MetricSchema, {
    key: row.key,
    value: row.value,
    step: BigInt(row.step),
    timestamp: BigInt(row.timestamp),
  });
}

/** Key/value rows grouped into one record per owner (a run's params, an experiment's tags). */
export function groupKeyValues<R extends KeyValueRow>(
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

/** Throws TRACKING_RUN_NOT_FOUND unless the run exists (active or deleted). */
export async function requireRun(db: SqlQueryable, runId: string): Promise<void> {
  const { rows } = await db.query("SELECT 1 FROM runs WHERE run_id = $1", [runId]);
  if (rows.length === 0) throw trackingErrors.runNotFound(runId);
}

/**
 * Checks that the run exists and is active (RUN_NOT_FOUND / RUN_NOT_ACTIVE otherwise), locking
 * its row until the transaction ends. Writers of a run's data take KEY SHARE: it keeps the run
 * from being purged under them (metric history has no foreign key) without queueing concurrent
 * batches of the run, or an update of its status (NO KEY UPDATE), behind each other.
 */
export async function lockActiveRun(
  tx: SqlQueryable,
  runId: string,
  lock: "no key update" | "key share",
): Promise<void> {
  const { rows } = await tx.query<{ lifecycle_stage: string }>(
    `SELECT lifecycle_stage FROM runs WHERE run_id = $1 FOR ${lock.toUpperCase()}`,
    [runId],
  );
  const row = rows[0];
  if (row === undefined) throw trackingErrors.runNotFound(runId);
  if (row.lifecycle_stage !== "active") throw trackingErrors.runNotActive(runId);
}

/** Sets run tags, replacing values of existing keys. */
export async function upsertRunTags(tx: SqlQueryable, runId: string, tags: ReadonlyMap<string, string>): Promise<void> {
  await tx.query(
    `INSERT INTO run_tags (run_id, key, value)
     SELECT $1, key, value FROM unnest($2::text[], $3::text[]) AS t(key, value)
     ON CONFLICT (run_id, key) DO UPDATE SET value = EXCLUDED.value`,
    [runId, [...tags.keys()], [...tags.values()]],
  );
}

/** Tags by key, the last of a repeated key winning (as if set one after the other), in key order. */
export function lastValueByKey(tags: readonly { key: string; value: string }[]): Map<string, string> {
  return sortedByKey(new Map(tags.map((t) => [t.key, t.value])));
}

/**
 * The map in key order. Rows are written in this order, so concurrent batches of one run that
 * share keys lock them in the same order and cannot deadlock.
 */
export function sortedByKey(map: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
