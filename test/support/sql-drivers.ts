import { createPgClient } from "../../storage/sql/pg-client.js";
import { createPgliteClient } from "../../storage/sql/pglite-client.js";
import type { SqlClient } from "../../storage/sql/sql-client.js";
import { startPostgres, type TestPostgres } from "./postgres.js";

/** One SQL driver a suite runs over (with `describe.each`). */
export interface SqlDriver {
  readonly name: "pglite" | "postgres";
  /** Opens a fresh, empty (unmigrated) database of this driver. */
  readonly open: () => Promise<SqlClient>;
}

/** Both drivers, and what closes everything they opened. */
export interface SqlDrivers {
  readonly drivers: readonly SqlDriver[];
  /** Closes every client opened (newest first), then stops the PostgreSQL server if one was started; for afterAll. */
  closeAll(): Promise<void>;
}

/**
 * PGlite in memory and a database of a real PostgreSQL server, the server started on the first
 * `open` of "postgres" (so a file whose suites run one after the other only pays for it when
 * that suite runs). Each client holds a pool of `poolSize` connections (default 2).
 */
export function sqlDrivers(poolSize = 2): SqlDrivers {
  let server: TestPostgres | undefined;
  const clients: SqlClient[] = [];
  const track = (client: SqlClient): SqlClient => {
    clients.push(client);
    return client;
  };
  return {
    drivers: [
      { name: "pglite", open: async () => track(await createPgliteClient(undefined)) },
      {
        name: "postgres",
        open: async () => {
          server ??= await startPostgres();
          return track(createPgClient({ url: await server.createDatabase(), poolSize }));
        },
      },
    ],
    async closeAll() {
      for (const client of clients.reverse()) await client.close();
      await server?.cleanup();
    },
  };
}
