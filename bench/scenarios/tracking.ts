/**
 * Tracking scenarios: LogBatch ingest and SearchRuns at 100k runs, on PostgreSQL and on PGlite.
 *
 * The registry server runs in its own process (bench/lib/registry-process.ts); the load generator is
 * this process, talking gRPC (Connect's grpc transport over h2c). Baselines measured in the same
 * run: for ingest, the same unnest-INSERTs issued straight to the database from this process (the
 * ceiling the RPC layer is compared against).
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { loadConfig } from "../../core/config.js";
import { createLogger } from "../../core/logger.js";
import { LogBatchRequestSchema, MetricSchema, TrackingService } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { openSqlClient } from "../../storage/sql/open-sql-client.js";
import type { SqlClient } from "../../storage/sql/sql-client.js";
import { startPostgres, type TestPostgres } from "../../test/support/postgres.js";
import { createLatencyRecorder, type LatencySummary } from "../lib/latency.js";
import { processCpuSeconds } from "../lib/process-cpu.js";
import { startRegistryProcess } from "../lib/registry-process.js";

/** Which metadata database a tracking scenario runs on. */
export type Driver = "postgres" | "pglite";

/** Settings of the tracking scenarios. */
export interface TrackingBenchOptions {
  /** Measured seconds per ingest run (after warm-up). */
  readonly durationSeconds: number;
  /** Warm-up seconds, excluded from the numbers. */
  readonly warmupSeconds: number;
  /** Concurrent LogBatch clients. */
  readonly clients: number;
  /** Metric points per LogBatch call. */
  readonly pointsPerBatch: number;
  /** Runs seeded for the search scenario. */
  readonly searchRuns: number;
  /** SearchRuns calls measured (after 20 warm-up calls). */
  readonly searchQueries: number;
}

/** Result of the LogBatch ingest scenario on one driver. */
export interface IngestResult {
  readonly driver: Driver;
  readonly clients: number;
  readonly pointsPerBatch: number;
  readonly seconds: number;
  readonly pointsPerSecond: number;
  readonly batchLatencyMs: LatencySummary;
  readonly errors: Record<string, number>;
  /** CPU seconds per wall second of the server process (1.0 = one core busy). */
  readonly serverCpuCores: number | undefined;
  /** Baseline: the same inserts straight to the database from one process, same concurrency. */
  readonly directSqlPointsPerSecond: number;
  /** pointsPerSecond / directSqlPointsPerSecond. */
  readonly ratioToDirectSql: number;
}

/** Result of the SearchRuns scenario on one driver. */
export interface SearchResult {
  readonly driver: Driver;
  readonly runs: number;
  readonly filter: string;
  readonly orderBy: string;
  readonly maxResults: number;
  readonly latencyMs: LatencySummary;
  readonly errors: Record<string, number>;
  readonly meanRunsReturned: number;
}

/** A database to run a tracking scenario on, with the server configuration pointing at it. */
interface Database {
  readonly env: Record<string, string>;
  /** A direct SQL client for seeding and baselines (PGlite: only while the server is not running). */
  open(): Promise<SqlClient>;
  dispose(): Promise<void>;
}

async function createDatabase(driver: Driver, durable: boolean): Promise<Database> {
  const dataDir = await mkdtemp(join(tmpdir(), "mlpipe-bench-"));
  let pg: TestPostgres | undefined;
  const env: Record<string, string> = { MLPIPE_DATA_DIR: dataDir, LOG_LEVEL: "warn" };
  if (driver === "postgres") {
    pg = await startPostgres({ durable });
    env.DATABASE_URL = await pg.createDatabase();
  }
  const logger = createLogger({ level: "warn" });
  return {
    env,
    open: () => openSqlClient(loadConfig(env), logger),
    async dispose() {
      await pg?.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Distinct batches built up front and cycled by the ingest loops. */
const corpusSize = 32;

function makeBatch(
  pointsPerBatch: number,
  step: number,
): { key: string; value: number; timestamp: bigint; step: bigint }[] {
  const now = BigInt(Date.now());
  const keys = 10;
  return Array.from({ length: pointsPerBatch }, (_, i) => ({
    key: `metric_${i % keys}`,
    value: Math.random(),
    timestamp: now,
    step: BigInt(step * Math.ceil(pointsPerBatch / keys) + Math.floor(i / keys)),
  }));
}

/** LogBatch ingest: `clients` concurrent clients, each on its own run, 1000-point batches. */
export async function runIngest(driver: Driver, options: TrackingBenchOptions): Promise<IngestResult> {
  const db = await createDatabase(driver, true);
  try {
    const directSqlPointsPerSecond = driver === "postgres" ? await directSqlIngest(db, options) : Number.NaN;
    const { child: server, url } = await startRegistryProcess(db.env);
    try {
      const client = createClient(TrackingService, createGrpcTransport({ baseUrl: url }));
      const experiment = await client.createExperiment({ name: `ingest-${randomUUID()}` });
      const experimentId = experiment.experiment?.experimentId ?? "";
      const runIds: string[] = [];
      for (let c = 0; c < options.clients; c++) {
        const r = await client.createRun({ experimentId, runName: `client-${c}` });
        runIds.push(r.run?.info?.runId ?? "");
      }
      const latency = createLatencyRecorder();
      const errors: Record<string, number> = {};
      let points = 0;
      let measuring = false;
      let stop = false;
      // Requests are encoded once up front (a corpus of distinct batches per run, cycled) and sent
      // as bytes over grpc-js, as the inference scenarios do: protobuf-es takes ~2 ms to encode a
      // 1000-point batch, and the generator's own CPU must not decide the server's number. Each
      // send appends a fresh batch_id (field 5; the last occurrence of a field wins), so no batch
      // is a duplicate.
      const grpcClient = new grpc.Client(new URL(url).host, grpc.credentials.createInsecure());
      const corpora = runIds.map((runId) =>
        Array.from({ length: corpusSize }, (_, i) =>
          Buffer.from(
            toBinary(
              LogBatchRequestSchema,
              create(LogBatchRequestSchema, {
                runId,
                metrics: makeBatch(options.pointsPerBatch, i).map((m) => create(MetricSchema, m)),
              }),
            ),
          ),
        ),
      );
      const send = (payload: Buffer): Promise<void> =>
        new Promise((resolve, reject) => {
          grpcClient.makeUnaryRequest(
            "/mlpipe.tracking.v1.TrackingService/LogBatch",
            (b: Buffer) => b,
            (b: Buffer) => b,
            payload,
            // LogBatchResponse is empty unless `duplicate` is true: a duplicate would mean the
            // points were counted here but not stored, so it counts as an error.
            (err, response) =>
              err !== null
                ? reject(err)
                : response !== undefined && response.length > 0
                  ? reject(new Error("batch acknowledged as a duplicate"))
                  : resolve(),
          );
        });
      const loops = corpora.map(async (corpus) => {
        for (let step = 0; !stop; step++) {
          const body = corpus[step % corpusSize] ?? Buffer.alloc(0);
          const batchId = Buffer.from(randomUUID());
          const t0 = performance.now();
          try {
            await send(Buffer.concat([body, Buffer.from([0x2a, batchId.length]), batchId]));
            if (measuring) {
              latency.record(performance.now() - t0);
              points += options.pointsPerBatch;
            }
          } catch (err) {
            const name = err instanceof Error ? err.message.slice(0, 80) : String(err);
            errors[name] = (errors[name] ?? 0) + 1;
          }
        }
      });
      await sleep(options.warmupSeconds * 1000);
      measuring = true;
      const cpu0 = await processCpuSeconds(server.pid);
      const t0 = performance.now();
      await sleep(options.durationSeconds * 1000);
      const seconds = (performance.now() - t0) / 1000;
      const cpu1 = await processCpuSeconds(server.pid);
      measuring = false;
      const measuredPoints = points;
      stop = true;
      await Promise.all(loops);
      grpcClient.close();
      const pointsPerSecond = measuredPoints / seconds;
      return {
        driver,
        clients: options.clients,
        pointsPerBatch: options.pointsPerBatch,
        seconds,
        pointsPerSecond,
        batchLatencyMs: latency.summary(),
        errors,
        serverCpuCores: cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) / seconds,
        directSqlPointsPerSecond,
        ratioToDirectSql: pointsPerSecond / directSqlPointsPerSecond,
      };
    } finally {
      await server.stop();
    }
  } finally {
    await db.dispose();
  }
}

/** Baseline: the store's kind of insert, issued straight to PostgreSQL from this process. */
async function directSqlIngest(db: Database, options: TrackingBenchOptions): Promise<number> {
  const sql = await db.open();
  try {
    const now = Date.now();
    await sql.query(
      "INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) VALUES ('direct', 'file:///tmp', $1, $1)",
      [now],
    );
    const runIds = Array.from({ length: options.clients }, () => randomUUID().replaceAll("-", ""));
    for (const runId of runIds) {
      await sql.query(
        `INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, artifact_uri)
         SELECT $1, experiment_id, 'direct', 'RUNNING', $2, 'file:///tmp' FROM experiments WHERE name = 'direct'`,
        [runId, now],
      );
    }
    const corpus = Array.from({ length: corpusSize }, (_, i) => makeBatch(options.pointsPerBatch, i));
    let points = 0;
    let stop = false;
    const loops = runIds.map(async (runId) => {
      for (let step = 0; !stop; step++) {
        const batch = corpus[step % corpusSize] ?? [];
        await sql.transaction(async (tx) => {
          await tx.query(
            `INSERT INTO metrics (run_id, key, step, timestamp, value)
             SELECT $1, k, s, t, v FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::float8[]) AS u(k, s, t, v)`,
            [
              runId,
              batch.map((m) => m.key),
              batch.map((m) => m.step.toString()),
              batch.map((m) => m.timestamp.toString()),
              batch.map((m) => m.value),
            ],
          );
          await tx.query(
            `INSERT INTO latest_metrics (run_id, key, step, timestamp, value)
             SELECT DISTINCT ON (k) $1, k, s, t, v
               FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::float8[]) AS u(k, s, t, v)
              ORDER BY k, s DESC, t DESC
             ON CONFLICT (run_id, key) DO UPDATE SET step = excluded.step, timestamp = excluded.timestamp, value = excluded.value
              WHERE (excluded.step, excluded.timestamp) >= (latest_metrics.step, latest_metrics.timestamp)`,
            [
              runId,
              batch.map((m) => m.key),
              batch.map((m) => m.step.toString()),
              batch.map((m) => m.timestamp.toString()),
              batch.map((m) => m.value),
            ],
          );
        });
        points += batch.length;
      }
    });
    await sleep(options.warmupSeconds * 1000);
    const p0 = points;
    const t0 = performance.now();
    await sleep(options.durationSeconds * 1000);
    const rate = (points - p0) / ((performance.now() - t0) / 1000);
    stop = true;
    await Promise.all(loops);
    return rate;
  } finally {
    await sql.close();
  }
}

/** Seeds `runs` runs with 10 params and 10 metrics each, in one experiment; returns its id. */
async function seedRuns(sql: SqlClient, runs: number): Promise<string> {
  const now = Date.now();
  const res = await sql.query<{ experiment_id: string | number }>(
    `INSERT INTO experiments (name, artifact_location, creation_time, last_update_time)
     VALUES ('search-bench', 'file:///tmp/search-bench', $1, $1) RETURNING experiment_id`,
    [now],
  );
  const experimentId = String(res.rows[0]?.experiment_id);
  await sql.query(
    `INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, end_time, artifact_uri)
     SELECT md5('run' || g), $1::bigint, 'run-' || g, (ARRAY['FINISHED', 'FAILED', 'RUNNING'])[1 + g % 3],
            $2::bigint + g * 1000, $2::bigint + g * 1000 + 60000, 'file:///tmp/search-bench/' || md5('run' || g)
       FROM generate_series(1, $3::int) AS g`,
    [experimentId, now - runs * 1000, runs],
  );
  await sql.query(
    `INSERT INTO params (run_id, key, value)
     SELECT r.run_id, 'p' || k, 'v' || (abs(hashtext(r.run_id || k)) % 10)
       FROM runs r CROSS JOIN generate_series(0, 9) AS k WHERE r.experiment_id = $1::bigint`,
    [experimentId],
  );
  await sql.query(
    `INSERT INTO run_tags (run_id, key, value)
     SELECT r.run_id, 'team', (ARRAY['vision', 'nlp', 'tabular'])[1 + abs(hashtext(r.run_id)) % 3]
       FROM runs r WHERE r.experiment_id = $1::bigint`,
    [experimentId],
  );
  await sql.query(
    `INSERT INTO latest_metrics (run_id, key, step, timestamp, value)
     SELECT r.run_id, 'm' || k, 100, r.start_time, (abs(hashtext(r.run_id || 'm' || k)) % 1000000) / 1000000.0
       FROM runs r CROSS JOIN generate_series(0, 9) AS k WHERE r.experiment_id = $1::bigint`,
    [experimentId],
  );
  await sql.query(
    `INSERT INTO metrics (run_id, key, step, timestamp, value)
     SELECT run_id, key, step, timestamp, value FROM latest_metrics
      WHERE run_id IN (SELECT run_id FROM runs WHERE experiment_id = $1::bigint)`,
    [experimentId],
  );
  await sql.query("ANALYZE");
  return experimentId;
}

/** SearchRuns over `searchRuns` runs: a metric filter combined with a param, ordered by another metric. */
export async function runSearch(driver: Driver, options: TrackingBenchOptions): Promise<SearchResult> {
  const db = await createDatabase(driver, false);
  try {
    const sql = await db.open();
    let experimentId: string;
    try {
      experimentId = await seedRuns(sql, options.searchRuns);
    } finally {
      await sql.close();
    }
    const { child: server, url } = await startRegistryProcess(db.env);
    try {
      const client = createClient(TrackingService, createGrpcTransport({ baseUrl: url }));
      const orderBy = "metrics.m1 DESC";
      const maxResults = 100;
      const filterFor = (i: number): string =>
        `metrics.m0 > ${(0.5 + (i % 40) / 100).toFixed(2)} AND (params.p1 = 'v${i % 10}' OR tags.team = 'nlp')`;
      const latency = createLatencyRecorder();
      const errors: Record<string, number> = {};
      let returned = 0;
      for (let i = 0; i < 20 + options.searchQueries; i++) {
        const t0 = performance.now();
        try {
          const res = await client.searchRuns({
            experimentIds: [experimentId],
            filter: filterFor(i),
            orderBy: [orderBy],
            maxResults,
          });
          if (i >= 20) {
            latency.record(performance.now() - t0);
            returned += res.runs.length;
          }
        } catch (err) {
          const name = err instanceof Error ? err.message.slice(0, 80) : String(err);
          errors[name] = (errors[name] ?? 0) + 1;
        }
      }
      return {
        driver,
        runs: options.searchRuns,
        filter: filterFor(0),
        orderBy,
        maxResults,
        latencyMs: latency.summary(),
        errors,
        meanRunsReturned: returned / options.searchQueries,
      };
    } finally {
      await server.stop();
    }
  } finally {
    await db.dispose();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
