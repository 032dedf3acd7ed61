/**
 * The one seam between mlpipe's SQL and a database driver. Both drivers speak PostgreSQL's dialect
 * with `$1`-style parameters: embedded PGlite (the default: a directory on disk) and a PostgreSQL
 * server through `pg`. Stores are written once against this interface.
 */

/** Rows returned by a query, as plain objects keyed by column name. */
export interface SqlResult<R> {
  readonly rows: R[];
  /** Rows inserted, updated or deleted by the statement (0 for SELECT on some drivers). */
  readonly affectedRows: number;
}

/** Options of one statement. */
export interface SqlQueryOptions {
  /**
   * Aborting it cancels the statement (the caller went away): PostgreSQL stops running it
   * (pg_cancel_backend) and the query rejects with CANCELED. PGlite can only skip a statement
   * that has not started.
   */
  readonly signal?: AbortSignal;
}

/** Something that runs statements: the client itself or an open transaction. */
export interface SqlQueryable {
  /**
   * Runs one statement with positional parameters ($1, $2...). Errors are translated: an
   * unreachable database becomes DATABASE_UNAVAILABLE, a statement over the statement timeout
   * DATABASE_STATEMENT_TIMEOUT; a constraint violation is rethrown as a
   * {@link SqlConstraintError} for the store to map to a domain error.
   */
  query<R extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: SqlQueryOptions,
  ): Promise<SqlResult<R>>;
}

/** A database connection (or pool) that can run statements and transactions. */
export interface SqlClient extends SqlQueryable {
  /** Which driver this is, for the rare statement that differs (none yet) and for logs. */
  readonly driver: "pglite" | "postgres";
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws (and the
   * error rethrown). No partial write is ever visible.
   */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /**
   * Subscribes to PostgreSQL notifications on `channel` (LISTEN/NOTIFY). Returns an unsubscribe
   * function. Used to push changes across replicas that share one database.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Releases connections (and, for PGlite, flushes and closes the database). */
  close(): Promise<void>;
  /** The connection pool's counts, for metrics; absent for a driver without a pool (PGlite). */
  poolStats?(): SqlPoolStats;
}

/** A connection pool's state at one instant (read-only, for metrics). */
export interface SqlPoolStats {
  /** Most connections the pool opens (DATABASE_POOL_SIZE). */
  readonly max: number;
  /** Connections open now, idle or in use. */
  readonly total: number;
  /** Open connections not checked out. */
  readonly idle: number;
  /** Queries and transactions waiting for a connection. */
  readonly waiting: number;
}

/** A unique, foreign-key or check constraint violation (SQLSTATE class 23). */
export class SqlConstraintError extends Error {
  override readonly name = "SqlConstraintError";
  /** The SQLSTATE, e.g. "23505" for unique_violation. */
  readonly sqlState: string;
  /** The violated constraint's name, when the driver reports it. */
  readonly constraint: string | undefined;

  constructor(sqlState: string, constraint: string | undefined, options: { cause: unknown }) {
    super(`constraint violation ${sqlState}${constraint === undefined ? "" : ` (${constraint})`}`, options);
    this.sqlState = sqlState;
    this.constraint = constraint;
  }
}
