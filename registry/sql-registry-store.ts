import type { SqlClient } from "../storage/sql/sql-client.js";
import type { RegistryStore } from "./registry-store.js";
import { createSqlEventStore } from "./sql-event-store.js";
import { createSqlModelStore } from "./sql-model-store.js";
import { createSqlStageStore } from "./sql-stage-store.js";
import { createSqlVersionStore } from "./sql-version-store.js";

/**
 * The registry store over a migrated database (PGlite or PostgreSQL), made of one part per
 * aggregate: registered models (sql-model-store.ts), versions (sql-version-store.ts), stages and
 * aliases (sql-stage-store.ts), the audit log and watch (sql-event-store.ts). They share the row
 * readers of sql-registry-rows.ts and the event writer of sql-registry-events.ts.
 */
export function createSqlRegistryStore(client: SqlClient): RegistryStore {
  return {
    ...createSqlModelStore(client),
    ...createSqlVersionStore(client),
    ...createSqlStageStore(client),
    ...createSqlEventStore(client),
  };
}
