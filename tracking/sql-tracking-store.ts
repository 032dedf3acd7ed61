import type { SqlClient } from "../storage/sql/sql-client.js";
import { createSqlArtifactIndex } from "./sql-artifact-index.js";
import { createSqlExperimentStore, type SqlExperimentStoreOptions } from "./sql-experiment-store.js";
import { createSqlRunLogStore } from "./sql-run-log-store.js";
import { createSqlRunStore } from "./sql-run-store.js";
import type { TrackingStore } from "./tracking-store.js";

/** Options of {@link createSqlTrackingStore}. */
export type SqlTrackingStoreOptions = SqlExperimentStoreOptions;

/**
 * The tracking store over SQL, the same statements for PGlite and PostgreSQL
 * (storage/sql/migrations/0001_tracking.sql), made of one part per aggregate: experiments
 * (sql-experiment-store.ts), runs (sql-run-store.ts), what is logged to runs
 * (sql-run-log-store.ts) and the artifact index (sql-artifact-index.ts). Multi-statement writes
 * run in one transaction. Search builds its SQL in storage/query from the specs of
 * tracking/search/; the store loads the objects it finds, with a fixed number of queries per page.
 */
export function createSqlTrackingStore(sql: SqlClient, options: SqlTrackingStoreOptions): TrackingStore {
  return {
    ...createSqlExperimentStore(sql, options),
    ...createSqlRunStore(sql),
    ...createSqlRunLogStore(sql),
    ...createSqlArtifactIndex(sql),
    /**
     * Closes the SQL client the store was given (app/registry-server.ts closes the tracking store
     * last, after the other users of the client). Closing twice is harmless.
     */
    close: () => sql.close(),
  };
}
