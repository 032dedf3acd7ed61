import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { SqlClient } from "./sql-client.js";

/** Where the migration files live: `NNNN_name.sql`, applied in version order. */
const migrationsDir = join(import.meta.dirname, "migrations");

/**
 * Key of the transaction-scoped advisory lock every migration transaction takes first, so replicas
 * starting at once apply each migration exactly once (an arbitrary constant: "mlpipe" in ASCII).
 */
const migrationLockKey = 0x6d6c70697065;

/** One migration file. */
export interface Migration {
  /** The NNNN prefix as a number. */
  readonly version: number;
  /** The file name without prefix and extension, e.g. "tracking". */
  readonly name: string;
  readonly sql: string;
}

/** Reads the migration files in version order; rejects a malformed name or a repeated version. */
export async function loadMigrations(dir: string = migrationsDir): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const m = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (m?.[1] === undefined || m[2] === undefined)
      throw new Error(`migration file ${file} is not named NNNN_name.sql`);
    const version = Number(m[1]);
    if (migrations.some((x) => x.version === version)) throw new Error(`two migrations have version ${m[1]}`);
    migrations.push({ version, name: m[2], sql: await readFile(join(dir, file), "utf8") });
  }
  return migrations;
}

/**
 * Brings the schema up to date: applies each migration not yet recorded in `schema_migrations`,
 * in version order, each in its own transaction with the row that records it. Safe when several
 * processes run it against one database at once: each transaction takes an advisory lock and only
 * then checks whether its migration is applied. Returns the names (`NNNN_name`) applied by this call.
 */
export async function migrate(client: SqlClient, migrations?: readonly Migration[]): Promise<{ applied: string[] }> {
  const all = migrations ?? (await loadMigrations());
  const applied: string[] = [];
  for (const migration of all) {
    const didApply = await client.transaction(async (tx) => {
      // A migration may rewrite large tables: DATABASE_STATEMENT_TIMEOUT_MS bounds requests, not it.
      await tx.query("SET LOCAL statement_timeout = 0");
      await tx.query("SELECT pg_advisory_xact_lock($1::bigint)", [migrationLockKey]);
      await tx.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           version    INTEGER PRIMARY KEY,
           name       TEXT    NOT NULL,
           applied_at BIGINT  NOT NULL
         )`,
      );
      const done = await tx.query("SELECT 1 FROM schema_migrations WHERE version = $1", [migration.version]);
      if (done.rows.length > 0) return false;
      await tx.query(migration.sql);
      await tx.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
        migration.version,
        migration.name,
        Date.now(),
      ]);
      return true;
    });
    if (didApply) applied.push(`${String(migration.version).padStart(4, "0")}_${migration.name}`);
  }
  return { applied };
}
