import { join } from "node:path";
import type { Config } from "../../core/config.js";
import type { Logger } from "../../core/logger.js";
import { migrate } from "./migrate.js";
import { createPgClient } from "./pg-client.js";
import { createPgliteClient } from "./pglite-client.js";
import type { SqlClient } from "./sql-client.js";

/**
 * Opens the metadata database the configuration names and brings its schema up to date:
 * PostgreSQL when DATABASE_URL is set, else embedded PGlite in `<dataDir>/db`. For composition
 * roots; the caller closes the client.
 */
export async function openSqlClient(config: Config, logger: Logger): Promise<SqlClient> {
  const client =
    config.databaseUrl === undefined
      ? await createPgliteClient(join(config.dataDir, "db"))
      : createPgClient({
          url: config.databaseUrl,
          poolSize: config.databasePoolSize,
          statementTimeoutMs: config.databaseStatementTimeoutMs,
          onBackgroundError: (err) => logger.warn({ err }, "database connection error"),
        });
  try {
    const { applied } = await migrate(client);
    logger.info(
      {
        driver: client.driver,
        ...(client.driver === "pglite" ? { dataDir: join(config.dataDir, "db") } : {}),
        migrationsApplied: applied,
      },
      applied.length === 0 ? "metadata database ready" : `metadata database migrated (${applied.join(", ")})`,
    );
    return client;
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
}
