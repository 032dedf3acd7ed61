import pg from "pg";
import { commonErrors } from "../../core/errors/common-errors.js";
import type { SqlClient, SqlPoolStats, SqlQueryable, SqlQueryOptions, SqlResult } from "./sql-client.js";
import { translateSqlError } from "./sql-errors.js";

/** Options of {@link createPgClient}. */
export interface PgClientOptions {
  /** A postgres:// or postgresql:// connection URL. */
  readonly url: string;
  /** Maximum pooled connections (the LISTEN connection is one more). */
  readonly poolSize: number;
  /** How long to wait for a new connection before DATABASE_UNAVAILABLE, in ms (default 10 s). */
  readonly connectTimeoutMs?: number;
  /**
   * Longest a statement may run before PostgreSQL cancels it (DATABASE_STATEMENT_TIMEOUT), in
   * ms; 0 (the default) for no bound. Set per connection, so it holds for every statement.
   */
  readonly statementTimeoutMs?: number;
  /** Called with errors of idle or listening connections, which no request awaits (default: ignored). */
  readonly onBackgroundError?: (err: unknown) => void;
}

/** First and longest wait between attempts to re-establish the LISTEN connection, in ms. */
const listenRetryMinMs = 250;
const listenRetryMaxMs = 10_000;

/**
 * Connects to a PostgreSQL server through a `pg` pool as a {@link SqlClient}.
 *
 * Connections are made lazily and replaced when they break, so the client recovers by itself when
 * the database comes back; meanwhile statements fail with DATABASE_UNAVAILABLE. BIGINT columns
 * come back as decimal strings (pg's default, kept on purpose: int64 values stay exact).
 * A statement without parameters may hold several statements separated by `;` (migrations); its
 * result is the last statement's.
 */
export function createPgClient(options: PgClientOptions): SqlClient {
  return new PgClient(options);
}

type PgRunner = Pick<pg.ClientBase, "query">;

async function runQuery<R extends object>(
  runner: PgRunner,
  sql: string,
  params: readonly unknown[] | undefined,
  statementTimeoutMs: number,
): Promise<SqlResult<R>> {
  try {
    const hasParams = params !== undefined && params.length > 0;
    // With several statements (only possible without parameters) pg resolves to one result each.
    const raw: pg.QueryResult | pg.QueryResult[] = hasParams
      ? await runner.query(sql, [...params])
      : await runner.query(sql);
    const results = Array.isArray(raw) ? raw : [raw];
    const last = results[results.length - 1];
    const affectedRows = results.reduce((sum, r) => sum + (r.command === "SELECT" ? 0 : (r.rowCount ?? 0)), 0);
    return { rows: (last?.rows ?? []) as R[], affectedRows };
  } catch (err) {
    throw translateSqlError(err, statementTimeoutMs);
  }
}

class PgClient implements SqlClient {
  readonly driver = "postgres";
  readonly #pool: pg.Pool;
  readonly #listener: PgListener;
  readonly #poolSize: number;
  readonly #config: pg.ClientConfig;
  readonly #statementTimeoutMs: number;
  readonly #onBackgroundError: (err: unknown) => void;
  #closing: Promise<void> | undefined;

  constructor(options: PgClientOptions) {
    const onBackgroundError = options.onBackgroundError ?? (() => {});
    this.#statementTimeoutMs = options.statementTimeoutMs ?? 0;
    const config: pg.PoolConfig = {
      connectionString: options.url,
      max: options.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      keepAlive: true,
      ...(this.#statementTimeoutMs > 0 ? { statement_timeout: this.#statementTimeoutMs } : {}),
    };
    this.#config = config;
    this.#onBackgroundError = onBackgroundError;
    this.#pool = new pg.Pool(config);
    this.#poolSize = options.poolSize;
    // An idle client whose connection drops emits 'error' on the pool; unhandled, it would crash
    // the process. The pool discards that client and opens a new one on the next checkout.
    this.#pool.on("error", onBackgroundError);
    this.#listener = new PgListener(config, onBackgroundError);
  }

  async query<R extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: SqlQueryOptions,
  ): Promise<SqlResult<R>> {
    const signal = options?.signal;
    if (signal === undefined) return runQuery<R>(this.#pool, sql, params, this.#statementTimeoutMs);
    if (signal.aborted) throw commonErrors.canceled();
    // A cancellable statement needs to know its connection (the backend to cancel).
    const { client, release } = await this.#checkOut();
    try {
      return await this.#runCancellable<R>(client, sql, params, signal);
    } finally {
      release(false);
    }
  }

  /**
   * A connection of the pool, for statements that need one of their own; `release(true)` when
   * it is broken (it is then closed, not returned to the pool).
   */
  async #checkOut(): Promise<{ client: pg.PoolClient; release: (broken: boolean) => void }> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw translateSqlError(err);
    }
    // A checked-out client that breaks emits 'error' too; the failing statement reports it.
    const onError = (): void => {};
    client.on("error", onError);
    return {
      client,
      release: (broken) => {
        client.off("error", onError);
        client.release(broken);
      },
    };
  }

  /**
   * Runs a statement on `client`; when `signal` aborts meanwhile, asks PostgreSQL to cancel it
   * and rejects with CANCELED. Resolves only once a cancel request is answered, so the connection
   * is never handed to another statement that the late cancel could hit.
   */
  async #runCancellable<R extends object>(
    client: pg.ClientBase,
    sql: string,
    params: readonly unknown[] | undefined,
    signal: AbortSignal | undefined,
  ): Promise<SqlResult<R>> {
    if (signal === undefined) return runQuery<R>(client, sql, params, this.#statementTimeoutMs);
    if (signal.aborted) throw commonErrors.canceled();
    let cancel: Promise<void> | undefined;
    const onAbort = (): void => {
      cancel = this.#cancelBackend(client);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await runQuery<R>(client, sql, params, this.#statementTimeoutMs);
    } catch (err) {
      throw signal.aborted ? commonErrors.canceled() : err;
    } finally {
      signal.removeEventListener("abort", onAbort);
      await cancel;
    }
  }

  /**
   * Cancels the statement running on `client` with pg_cancel_backend, from a connection of its
   * own (the pool may be exhausted by the very queries to cancel). Failures are background errors.
   */
  async #cancelBackend(client: pg.ClientBase): Promise<void> {
    // node-pg keeps the backend's process id (from BackendKeyData) on the client, untyped.
    const pid: unknown = Reflect.get(client, "processID");
    if (typeof pid !== "number") return;
    const canceller = new pg.Client(this.#config);
    canceller.on("error", this.#onBackgroundError);
    try {
      await canceller.connect();
      await canceller.query("SELECT pg_cancel_backend($1)", [pid]);
    } catch (err) {
      this.#onBackgroundError(err);
    } finally {
      await canceller.end().catch(() => {});
    }
  }

  async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    const { client, release } = await this.#checkOut();
    let broken = false;
    try {
      await runQuery(client, "BEGIN", undefined, this.#statementTimeoutMs);
      const result = await fn({
        query: <R extends object>(sql: string, params?: readonly unknown[], options?: SqlQueryOptions) =>
          this.#runCancellable<R>(client, sql, params, options?.signal),
      });
      await runQuery(client, "COMMIT", undefined, this.#statementTimeoutMs);
      return result;
    } catch (err) {
      try {
        await client.query("ROLLBACK");
      } catch {
        broken = true; // the connection is gone or unusable: do not return it to the pool
      }
      throw err;
    } finally {
      release(broken);
    }
  }

  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    return this.#listener.listen(channel, onPayload);
  }

  poolStats(): SqlPoolStats {
    const pool = this.#pool;
    return { max: this.#poolSize, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#listener.close();
      await this.#pool.end();
    })();
    return this.#closing;
  }
}

/**
 * One dedicated connection for LISTEN, shared by every subscription of a client. When it drops,
 * it reconnects with backoff and re-issues LISTEN for every channel still subscribed
 * (notifications sent while disconnected are lost, as PostgreSQL does not queue them).
 */
class PgListener {
  readonly #config: pg.ClientConfig;
  readonly #onBackgroundError: (err: unknown) => void;
  readonly #handlers = new Map<string, Set<(payload: string) => void>>();
  #client: pg.Client | undefined;
  #connecting: Promise<pg.Client> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelayMs = listenRetryMinMs;
  #closed = false;

  constructor(config: pg.ClientConfig, onBackgroundError: (err: unknown) => void) {
    this.#config = config;
    this.#onBackgroundError = onBackgroundError;
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    if (this.#closed) throw new Error("the SQL client is closed");
    let set = this.#handlers.get(channel);
    const isNew = set === undefined;
    if (set === undefined) {
      set = new Set();
      this.#handlers.set(channel, set);
    }
    set.add(onPayload);
    if (isNew) {
      try {
        const client = await this.#connected();
        await client.query(`LISTEN ${quoteIdentifier(channel)}`);
      } catch (err) {
        set.delete(onPayload);
        if (set.size === 0) this.#handlers.delete(channel);
        throw translateSqlError(err);
      }
    }
    return async () => {
      const current = this.#handlers.get(channel);
      if (current === undefined || !current.delete(onPayload) || current.size > 0) return;
      this.#handlers.delete(channel);
      const client = this.#client;
      if (client !== undefined) {
        try {
          await client.query(`UNLISTEN ${quoteIdentifier(channel)}`);
        } catch (err) {
          this.#onBackgroundError(err); // the connection is going away; nothing is left to stop
        }
      }
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#handlers.clear();
    const client = this.#client ?? (await this.#connecting?.catch(() => undefined));
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  /** The live LISTEN connection, opening it when there is none. */
  #connected(): Promise<pg.Client> {
    if (this.#client !== undefined) return Promise.resolve(this.#client);
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #open(): Promise<pg.Client> {
    const client = new pg.Client(this.#config);
    client.on("notification", (msg) => {
      for (const handler of this.#handlers.get(msg.channel) ?? []) handler(msg.payload ?? "");
    });
    let lost = false;
    const onLost = (err?: unknown): void => {
      if (lost) return;
      lost = true;
      if (err !== undefined) this.#onBackgroundError(err);
      if (this.#client === client) this.#client = undefined;
      client.end().catch(() => {});
      this.#scheduleReconnect();
    };
    client.on("error", onLost);
    try {
      await client.connect();
    } catch (err) {
      client.removeListener("error", onLost);
      await client.end().catch(() => {});
      throw err;
    }
    client.on("end", () => onLost());
    if (this.#closed) {
      await client.end().catch(() => {});
      throw new Error("the SQL client is closed");
    }
    this.#client = client;
    return client;
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#handlers.size === 0 || this.#retryTimer !== undefined) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#resubscribe();
    }, this.#retryDelayMs);
    this.#retryTimer.unref();
  }

  async #resubscribe(): Promise<void> {
    if (this.#closed || this.#handlers.size === 0) return;
    try {
      const client = await this.#connected();
      for (const channel of this.#handlers.keys()) await client.query(`LISTEN ${quoteIdentifier(channel)}`);
      this.#retryDelayMs = listenRetryMinMs;
    } catch (err) {
      this.#onBackgroundError(err);
      this.#retryDelayMs = Math.min(this.#retryDelayMs * 2, listenRetryMaxMs);
      this.#client?.end().catch(() => {});
      this.#client = undefined;
      this.#scheduleReconnect();
    }
  }
}

/** Quotes a channel name as an SQL identifier (LISTEN takes no parameters). */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
