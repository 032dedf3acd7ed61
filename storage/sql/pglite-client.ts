import { mkdir } from "node:fs/promises";
import { PGlite, type Transaction, types } from "@electric-sql/pglite";
import { commonErrors } from "../../core/errors/common-errors.js";
import { type DataDirLock, lockDataDir } from "./data-dir-lock.js";
import type { SqlClient, SqlQueryable, SqlQueryOptions, SqlResult } from "./sql-client.js";
import { translateSqlError } from "./sql-errors.js";

/**
 * Opens embedded PostgreSQL (PGlite, WebAssembly, in this process) as a {@link SqlClient}.
 *
 * `dataDir` is a directory on disk, created when missing; undefined keeps the database in memory
 * (tests). PGlite has one connection: its own mutex serializes transactions and statements, so
 * concurrent callers queue rather than interleave. BIGINT columns come back as decimal strings,
 * as node-pg returns them, so stores read both drivers the same way.
 *
 * A statement without parameters may hold several statements separated by `;` (migrations); its
 * result is the last statement's.
 *
 * A directory is opened by one client at a time (`<dataDir>.lock`, see lockDataDir): a second
 * process on the same directory fails to start with DataDirInUseError instead of corrupting it.
 */
export async function createPgliteClient(dataDir: string | undefined): Promise<SqlClient> {
  let lock: DataDirLock | undefined;
  if (dataDir !== undefined) {
    await mkdir(dataDir, { recursive: true });
    lock = await lockDataDir(dataDir);
  }
  try {
    const db = await PGlite.create({
      ...(dataDir === undefined ? {} : { dataDir }),
      parsers: { [types.INT8]: (value: string) => value },
    });
    return new PgliteClient(db, lock);
  } catch (err) {
    await lock?.release();
    throw err;
  }
}

type PgliteRunner = Pick<Transaction, "query" | "exec">;

async function runQuery<R extends object>(
  runner: PgliteRunner,
  sql: string,
  params: readonly unknown[] | undefined,
  options?: SqlQueryOptions,
): Promise<SqlResult<R>> {
  // PGlite runs a statement on this thread to its end: an aborted caller can only skip one that
  // has not started (it may have waited for PGlite's mutex).
  if (options?.signal?.aborted === true) throw commonErrors.canceled();
  try {
    if (params === undefined || params.length === 0) {
      const results = await runner.exec(sql);
      const last = results[results.length - 1];
      const affectedRows = results.reduce((sum, r) => sum + (r.affectedRows ?? 0), 0);
      return { rows: (last?.rows ?? []) as R[], affectedRows };
    }
    const result = await runner.query<R>(sql, [...params]);
    return { rows: result.rows, affectedRows: result.affectedRows ?? 0 };
  } catch (err) {
    throw translateSqlError(err);
  }
}

class PgliteClient implements SqlClient {
  readonly driver = "pglite";
  readonly #db: PGlite;
  readonly #lock: DataDirLock | undefined;
  #closing: Promise<void> | undefined;

  constructor(db: PGlite, lock: DataDirLock | undefined) {
    this.#db = db;
    this.#lock = lock;
  }

  query<R extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: SqlQueryOptions,
  ): Promise<SqlResult<R>> {
    return runQuery<R>(this.#db, sql, params, options);
  }

  async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    try {
      return await this.#db.transaction((tx) =>
        fn({
          query: <R extends object>(sql: string, params?: readonly unknown[], options?: SqlQueryOptions) =>
            runQuery<R>(tx, sql, params, options),
        }),
      );
    } catch (err) {
      // Errors of statements are already translated; this catches BEGIN/COMMIT failures.
      throw translateSqlError(err);
    }
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    // PGlite takes the channel as SQL text: quoted, the name is kept exactly (as pg's LISTEN
    // does). Unsubscribe through unlisten() with the quoted name too: the function listen()
    // returns passes the bare name on, which breaks for names that need quoting.
    const quoted = `"${channel.replaceAll('"', '""')}"`;
    try {
      await this.#db.listen(quoted, onPayload);
    } catch (err) {
      throw translateSqlError(err);
    }
    return async () => {
      try {
        await this.#db.unlisten(quoted, onPayload);
      } catch (err) {
        throw translateSqlError(err);
      }
    };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (!this.#db.closed) await this.#db.close();
      await this.#lock?.release();
    })();
    return this.#closing;
  }
}
