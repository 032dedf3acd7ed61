import type { SqlQueryable } from "../../storage/sql/sql-client.js";

/**
 * Test-only helpers that write search fixtures straight into the tracking tables (the store's
 * write path is tested elsewhere). Values go in as parameters, like everything else.
 */

/** A run to insert: metrics values may be numbers or "NaN"/"Infinity". */
export interface SeedRun {
  readonly runId: string;
  readonly experimentId: string;
  readonly runName?: string;
  readonly status?: string;
  readonly startTime: number;
  readonly endTime?: number;
  readonly deleted?: boolean;
  readonly metrics?: Readonly<Record<string, number | string>>;
  readonly params?: Readonly<Record<string, string>>;
  readonly tags?: Readonly<Record<string, string>>;
}

/** Inserts an experiment with an explicit id. */
export async function seedExperiment(
  db: SqlQueryable,
  e: {
    id: string;
    name: string;
    creationTime: number;
    lastUpdateTime?: number;
    deleted?: boolean;
    tags?: Record<string, string>;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
     VALUES ($1::bigint, $2, $3, $4, $5::bigint, $6::bigint)`,
    [
      e.id,
      e.name,
      `file:///tmp/${e.id}`,
      e.deleted === true ? "deleted" : "active",
      String(e.creationTime),
      String(e.lastUpdateTime ?? e.creationTime),
    ],
  );
  for (const [key, value] of Object.entries(e.tags ?? {})) {
    await db.query("INSERT INTO experiment_tags (experiment_id, key, value) VALUES ($1::bigint, $2, $3)", [
      e.id,
      key,
      value,
    ]);
  }
}

/** Inserts a run with its latest metrics, params and tags. */
export async function seedRun(db: SqlQueryable, run: SeedRun): Promise<void> {
  await db.query(
    `INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, end_time, lifecycle_stage, artifact_uri)
     VALUES ($1, $2::bigint, $3, $4, $5::bigint, $6::bigint, $7, $8)`,
    [
      run.runId,
      run.experimentId,
      run.runName ?? run.runId,
      run.status ?? "RUNNING",
      String(run.startTime),
      run.endTime === undefined ? null : String(run.endTime),
      run.deleted === true ? "deleted" : "active",
      `file:///tmp/${run.runId}`,
    ],
  );
  for (const [key, value] of Object.entries(run.metrics ?? {})) {
    await db.query(
      "INSERT INTO latest_metrics (run_id, key, step, timestamp, value) VALUES ($1, $2, 0, 0, $3::float8)",
      [run.runId, key, String(value)],
    );
  }
  for (const [key, value] of Object.entries(run.params ?? {})) {
    await db.query("INSERT INTO params (run_id, key, value) VALUES ($1, $2, $3)", [run.runId, key, value]);
  }
  for (const [key, value] of Object.entries(run.tags ?? {})) {
    await db.query("INSERT INTO run_tags (run_id, key, value) VALUES ($1, $2, $3)", [run.runId, key, value]);
  }
}
