/**
 * Issue 13, defect 2: a statement cannot run unbounded. On a real PostgreSQL server, a statement
 * over DATABASE_STATEMENT_TIMEOUT_MS is canceled by the server (DATABASE_STATEMENT_TIMEOUT), and
 * aborting the caller's signal (the client went away) stops the running statement: it leaves
 * pg_stat_activity, and the call rejects with CANCELED. Also within a transaction, and with the
 * pool exhausted by the statements to cancel. PGlite skips a statement whose caller already left.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgres, type TestPostgres } from "../../test/support/postgres.js";
import { createPgClient } from "./pg-client.js";
import { createPgliteClient } from "./pglite-client.js";
import type { SqlClient } from "./sql-client.js";

let server: TestPostgres;
let sql: SqlClient;
/** A client without statement timeout, of 2 connections. */
let unbounded: SqlClient;
/** A client without statement timeout that watches pg_stat_activity. */
let observer: SqlClient;

beforeAll(async () => {
  server = await startPostgres();
  const url = await server.createDatabase();
  sql = createPgClient({ url, poolSize: 2, statementTimeoutMs: 500 });
  unbounded = createPgClient({ url, poolSize: 2 });
  observer = createPgClient({ url, poolSize: 1 });
});

afterAll(async () => {
  await sql?.close();
  await unbounded?.close();
  await observer?.close();
  await server?.cleanup();
});

/** Statements whose text contains `marker` that are running now (other than the observer's). */
async function running(marker: string): Promise<number> {
  const { rows } = await observer.query<{ n: string }>(
    "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()",
    [`%${marker}%`],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Polls until `probe` holds; the test's timeout bounds the wait. */
async function until(probe: () => Promise<boolean>): Promise<void> {
  while (!(await probe())) await new Promise((r) => setTimeout(r, 20));
}

describe("statement timeout (DATABASE_STATEMENT_TIMEOUT_MS)", () => {
  it("cancels a statement running longer, as DATABASE_STATEMENT_TIMEOUT (deadline_exceeded)", async () => {
    await expect(sql.query("SELECT pg_sleep(3)")).rejects.toMatchObject({
      id: "DATABASE_STATEMENT_TIMEOUT",
      message: expect.stringContaining("longer than 500 ms"),
    });
    // The connection is still good.
    expect((await sql.query<{ one: number }>("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  }, 10_000);
});

describe("cancellation by the caller's signal", () => {
  it("stops running statements on PostgreSQL and rejects with CANCELED, even with the pool exhausted", async () => {
    const marker = `cancel_${Date.now()}`;
    const controllers = [new AbortController(), new AbortController()];
    // As many as the pool has connections: the cancel needs a connection of its own.
    const calls = controllers.map((c, i) =>
      unbounded.query(`SELECT pg_sleep(60) /* ${marker} ${i} */`, [], { signal: c.signal }).then(
        () => "finished",
        (err: unknown) => (err as { id?: string }).id,
      ),
    );
    await until(async () => (await running(marker)) === 2);
    for (const c of controllers) c.abort();
    expect(await Promise.all(calls)).toEqual(["CANCELED", "CANCELED"]);
    expect(await running(marker)).toBe(0);
  }, 10_000);

  it("cancels a long statement alone and within a transaction", async () => {
    const marker = `long_${Date.now()}`;
    const controller = new AbortController();
    const call = unbounded.query(`SELECT pg_sleep(60) /* ${marker} */`, [], { signal: controller.signal });
    await until(async () => (await running(marker)) === 1);
    controller.abort();
    await expect(call).rejects.toMatchObject({ id: "CANCELED" });
    expect(await running(marker)).toBe(0);
    // Inside a transaction too; the transaction is rolled back and the connection reusable.
    const txController = new AbortController();
    const tx = unbounded.transaction((t) =>
      t.query(`SELECT pg_sleep(60) /* ${marker} tx */`, [], { signal: txController.signal }),
    );
    await until(async () => (await running(`${marker} tx`)) === 1);
    txController.abort();
    await expect(tx).rejects.toMatchObject({ id: "CANCELED" });
    expect((await unbounded.query<{ one: number }>("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  }, 20_000);

  it("skips a statement whose caller has already gone, on both drivers", async () => {
    const pglite = await createPgliteClient(undefined);
    try {
      for (const client of [sql, pglite]) {
        await expect(client.query("SELECT 1", [], { signal: AbortSignal.abort() })).rejects.toMatchObject({
          id: "CANCELED",
        });
      }
    } finally {
      await pglite.close();
    }
  });
});
