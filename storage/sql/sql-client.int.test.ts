import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../core/config.js";
import { commonErrors } from "../../core/errors/common-errors.js";
import { createLogger } from "../../core/logger.js";
import { captureLog } from "../../test/support/captured-log.js";
import { startPostgres, type TestPostgres } from "../../test/support/postgres.js";
import { loadMigrations, migrate } from "./migrate.js";
import { openSqlClient } from "./open-sql-client.js";
import { createPgClient } from "./pg-client.js";
import { createPgliteClient } from "./pglite-client.js";
import { type SqlClient, SqlConstraintError } from "./sql-client.js";

let server: TestPostgres;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await server.cleanup();
});

/** A fresh, empty database of each driver; closed after the file. */
const drivers: { name: string; open: () => Promise<SqlClient> }[] = [
  { name: "pglite", open: () => track(createPgliteClient(undefined)) },
  {
    name: "postgres",
    open: async () => track(Promise.resolve(createPgClient({ url: await server.createDatabase(), poolSize: 4 }))),
  },
];

async function track(opening: Promise<SqlClient>): Promise<SqlClient> {
  const client = await opening;
  cleanups.push(() => client.close());
  return client;
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(drivers)("SqlClient over $name", ({ name, open }) => {
  let sql: SqlClient;

  beforeAll(async () => {
    sql = await open();
    await sql.query("CREATE TABLE t (id INTEGER PRIMARY KEY, n BIGINT NOT NULL, x DOUBLE PRECISION)");
  });

  it("names its driver", () => {
    expect(sql.driver).toBe(name === "pglite" ? "pglite" : "postgres");
  });

  it("round-trips NaN and ±Infinity doubles, as parameters, arrays and stored values", async () => {
    const specials = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-310, 0.1, -1.5e300];
    const { rows } = await sql.query<{ a: number[]; first: number }>("SELECT $1::float8[] AS a, $2::float8 AS first", [
      specials,
      Number.NaN,
    ]);
    expect(rows[0]?.a).toEqual(specials);
    expect(rows[0]?.first).toBeNaN();
    await sql.query("INSERT INTO t (id, n, x) SELECT i, 0, x FROM unnest($1::float8[]) WITH ORDINALITY AS u(x, i)", [
      specials,
    ]);
    const stored = await sql.query<{ x: number }>("SELECT x FROM t ORDER BY id");
    expect(stored.rows.map((r) => r.x)).toEqual(specials);
    await sql.query("DELETE FROM t");
  });

  it("returns BIGINT as exact decimal strings", async () => {
    const big = 2n ** 62n + 1n;
    const { rows } = await sql.query<{ n: string; m: string }>("SELECT $1::bigint AS n, -9223372036854775808 AS m", [
      big,
    ]);
    expect(rows[0]).toEqual({ n: big.toString(), m: "-9223372036854775808" });
    const withoutParams = await sql.query("SELECT 9007199254740993::int8 AS n, ARRAY[1, 2]::int8[] AS arr");
    expect(withoutParams.rows).toEqual([{ n: "9007199254740993", arr: ["1", "2"] }]);
  });

  it("reports affected rows", async () => {
    const inserted = await sql.query("INSERT INTO t (id, n) VALUES (1, 1), (2, 2)");
    expect(inserted.affectedRows).toBe(2);
    const none = await sql.query("INSERT INTO t (id, n) VALUES (1, 1) ON CONFLICT DO NOTHING");
    expect(none.affectedRows).toBe(0);
    const updated = await sql.query("UPDATE t SET n = n + 1 WHERE id = $1", [2]);
    expect(updated.affectedRows).toBe(1);
    await sql.query("DELETE FROM t");
  });

  it("runs several statements without parameters and returns the last one's rows", async () => {
    const { rows } = await sql.query<{ total: string }>(
      "INSERT INTO t (id, n) VALUES (10, 5); INSERT INTO t (id, n) VALUES (11, 6); SELECT sum(n)::text AS total FROM t",
    );
    expect(rows).toEqual([{ total: "11" }]);
    await sql.query("DELETE FROM t");
  });

  it("turns a constraint violation into SqlConstraintError naming the constraint", async () => {
    await sql.query("INSERT INTO t (id, n) VALUES (20, 1)");
    const err = await sql.query("INSERT INTO t (id, n) VALUES (20, 2)").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqlConstraintError);
    expect(err).toMatchObject({ sqlState: "23505", constraint: "t_pkey" });
    const notNull = await sql.query("INSERT INTO t (id, n) VALUES (21, NULL)").catch((e: unknown) => e);
    expect(notNull).toMatchObject({ sqlState: "23502" });
    await sql.query("DELETE FROM t");
  });

  it("rethrows other statement errors as they are", async () => {
    const err = await sql.query("SELEC 1").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "42601" });
    expect(commonErrors.databaseUnavailable.is(err)).toBe(false);
  });

  it("commits a transaction and returns its result", async () => {
    const result = await sql.transaction(async (tx) => {
      await tx.query("INSERT INTO t (id, n) VALUES (30, 1)");
      await tx.query("INSERT INTO t (id, n) VALUES (31, 1)");
      return "done";
    });
    expect(result).toBe("done");
    expect((await sql.query("SELECT id FROM t WHERE id >= 30 ORDER BY id")).rows).toEqual([{ id: 30 }, { id: 31 }]);
    await sql.query("DELETE FROM t");
  });

  it("rolls a transaction back when its function throws, and rethrows", async () => {
    const failure = new Error("stop");
    const err = await sql
      .transaction(async (tx) => {
        await tx.query("INSERT INTO t (id, n) VALUES (40, 1)");
        throw failure;
      })
      .catch((e: unknown) => e);
    expect(err).toBe(failure);
    const constraint = await sql
      .transaction(async (tx) => {
        await tx.query("INSERT INTO t (id, n) VALUES (41, 1)");
        await tx.query("INSERT INTO t (id, n) VALUES (41, 1)");
      })
      .catch((e: unknown) => e);
    expect(constraint).toBeInstanceOf(SqlConstraintError);
    expect((await sql.query("SELECT id FROM t WHERE id >= 40")).rows).toEqual([]);
    // The client is still usable after both.
    expect((await sql.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });

  it("isolates concurrent read-modify-write transactions", async () => {
    await sql.query("INSERT INTO t (id, n) VALUES (50, 0)");
    await Promise.all(
      Array.from({ length: 20 }, () =>
        sql.transaction(async (tx) => {
          const { rows } = await tx.query<{ n: string }>("SELECT n FROM t WHERE id = 50 FOR UPDATE");
          await new Promise((resolve) => setTimeout(resolve, 1));
          await tx.query("UPDATE t SET n = $1 WHERE id = 50", [Number(rows[0]?.n) + 1]);
        }),
      ),
    );
    expect((await sql.query("SELECT n FROM t WHERE id = 50")).rows).toEqual([{ n: "20" }]);
    await sql.query("DELETE FROM t");
  });

  it("closes once, however often close is called", async () => {
    const db = await open();
    await Promise.all([db.close(), db.close()]);
    await db.close();
    await expect(db.query("SELECT 1")).rejects.toThrow();
  });

  it("delivers notifications to listeners until they unsubscribe", async () => {
    const received: string[] = [];
    const unlisten = await sql.listen("mlpipe test", (payload) => received.push(payload));
    await sql.query("SELECT pg_notify('mlpipe test', $1)", ["first"]);
    await waitFor(() => received.length === 1, "the first notification");
    await unlisten();
    await sql.query("SELECT pg_notify('mlpipe test', $1)", ["second"]);
    await sql.query("SELECT pg_notify('mlpipe test', $1)", ["third"]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toEqual(["first"]);
  });

  it("migrates once: a second run applies nothing", async () => {
    const db = await open();
    const first = await migrate(db);
    const all = await loadMigrations();
    expect(first.applied).toEqual(all.map((m) => `${String(m.version).padStart(4, "0")}_${m.name}`));
    expect(first.applied[0]).toBe("0001_tracking");
    expect(await migrate(db)).toEqual({ applied: [] });
    const { rows } = await db.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
    expect(rows.map((r) => r.version)).toEqual(all.map((m) => m.version));
  });

  it("rolls back a failing migration with its record, then applies it once fixed", async () => {
    const db = await open();
    const broken = [{ version: 1, name: "broken", sql: "CREATE TABLE a (x INT); CREATE TABLE a (x INT);" }];
    await expect(migrate(db, broken)).rejects.toMatchObject({ code: "42P07" });
    expect((await db.query("SELECT to_regclass('a') AS a")).rows).toEqual([{ a: null }]);
    const fixed = [{ version: 1, name: "fixed", sql: "CREATE TABLE a (x INT);" }];
    expect(await migrate(db, fixed)).toEqual({ applied: ["0001_fixed"] });
  });
});

describe("migrations against one PostgreSQL database from several replicas at once", () => {
  it("apply each migration exactly once", async () => {
    const url = await server.createDatabase();
    const replicas = await Promise.all(
      Array.from({ length: 4 }, () => track(Promise.resolve(createPgClient({ url, poolSize: 2 })))),
    );
    const results = await Promise.all(replicas.map((r) => migrate(r)));
    const applied = results.flatMap((r) => r.applied);
    const all = await loadMigrations();
    expect(applied.sort()).toEqual(all.map((m) => `${String(m.version).padStart(4, "0")}_${m.name}`).sort());
    const check = await track(Promise.resolve(createPgClient({ url, poolSize: 1 })));
    const { rows } = await check.query<{ n: string }>("SELECT count(*)::text AS n FROM schema_migrations");
    expect(rows).toEqual([{ n: String(all.length) }]);
  });
});

describe("loadMigrations", () => {
  it("reads NNNN_name.sql files in version order and rejects other names and repeated versions", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mlpipe-migrations-"));
    try {
      await writeFile(join(dir, "0002_second.sql"), "SELECT 2;");
      await writeFile(join(dir, "0001_first.sql"), "SELECT 1;");
      await writeFile(join(dir, "README.md"), "not a migration");
      expect(await loadMigrations(dir)).toEqual([
        { version: 1, name: "first", sql: "SELECT 1;" },
        { version: 2, name: "second", sql: "SELECT 2;" },
      ]);
      await writeFile(join(dir, "0002_again.sql"), "SELECT 3;");
      await expect(loadMigrations(dir)).rejects.toThrow("two migrations have version 0002");
      await rm(join(dir, "0002_again.sql"));
      await writeFile(join(dir, "3_bad.sql"), "SELECT 3;");
      await expect(loadMigrations(dir)).rejects.toThrow("3_bad.sql is not named NNNN_name.sql");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("openSqlClient", () => {
  function captureLogger(): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
    const { lines, destination } = captureLog();
    return { logger: createLogger({ level: "info", destination }), lines };
  }

  it("opens PGlite in <dataDir>/db, migrates it, and keeps it across reopening", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "mlpipe-data-"));
    try {
      const config = loadConfig({ MLPIPE_DATA_DIR: dataDir });
      const first = captureLogger();
      const db = await openSqlClient(config, first.logger);
      expect(db.driver).toBe("pglite");
      await db.query(
        "INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) VALUES ('kept', 'x', 1, 1)",
      );
      await db.close();
      expect(first.lines[0]).toMatchObject({ driver: "pglite", dataDir: join(dataDir, "db") });
      expect(first.lines[0]?.migrationsApplied).toContain("0001_tracking");

      const second = captureLogger();
      const again = await openSqlClient(config, second.logger);
      expect(second.lines[0]).toMatchObject({
        driver: "pglite",
        migrationsApplied: [],
        msg: "metadata database ready",
      });
      expect((await again.query("SELECT name FROM experiments")).rows).toEqual([{ name: "kept" }]);
      await again.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("opens PostgreSQL when DATABASE_URL is set, without logging the URL", async () => {
    const url = await server.createDatabase();
    const { logger, lines } = captureLogger();
    const db = await track(openSqlClient(loadConfig({ DATABASE_URL: url, DATABASE_POOL_SIZE: "3" }), logger));
    expect(db.driver).toBe("postgres");
    expect(lines[0]).toMatchObject({ driver: "postgres" });
    expect(lines[0]?.migrationsApplied).toContain("0001_tracking");
    expect(JSON.stringify(lines)).not.toContain("mlpipe-test");
  });

  it("fails when the database cannot be reached", async () => {
    const { logger } = captureLogger();
    const config = loadConfig({ DATABASE_URL: "postgres://nobody:secret@127.0.0.1:1/none" });
    const err = await openSqlClient(config, logger).catch((e: unknown) => e);
    expect(commonErrors.databaseUnavailable.is(err)).toBe(true);
  });
});

// Last in the file: it stops the shared server.
describe("PostgreSQL going down and coming back", () => {
  it("answers DATABASE_UNAVAILABLE while it is down and recovers by itself, LISTEN included", async () => {
    const backgroundErrors: unknown[] = [];
    const url = await server.createDatabase();
    const db = await track(
      Promise.resolve(createPgClient({ url, poolSize: 2, onBackgroundError: (err) => backgroundErrors.push(err) })),
    );
    await migrate(db);
    const received: string[] = [];
    await db.listen("changes", (payload) => received.push(payload));
    // Leave idle connections in the pool: their loss must not crash the process.
    await Promise.all([db.query("SELECT pg_sleep(0.05)"), db.query("SELECT pg_sleep(0.05)")]);

    await server.stop();
    const whileDown = [
      await db.query("SELECT 1").catch((e: unknown) => e),
      await db.transaction((tx) => tx.query("SELECT 1")).catch((e: unknown) => e),
      await db.query("SELECT 1").catch((e: unknown) => e),
    ];
    for (const err of whileDown) expect(commonErrors.databaseUnavailable.is(err), String(err)).toBe(true);
    expect(backgroundErrors.length).toBeGreaterThan(0);

    await server.start();
    expect((await db.query<{ one: number }>("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    expect(await db.transaction(async (tx) => (await tx.query("SELECT 2 AS two")).rows)).toEqual([{ two: 2 }]);
    // The LISTEN connection comes back too (with backoff), and then sees new notifications.
    await waitFor(() => {
      db.query("SELECT pg_notify('changes', 'after restart')").catch(() => {});
      return received.includes("after restart");
    }, "a notification after the restart");
  });
});
