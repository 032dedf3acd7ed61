import { commonErrors } from "../../core/errors/common-errors.js";
import { SqlConstraintError } from "./sql-client.js";

/**
 * Error codes of Node sockets and DNS that mean the database cannot be reached (as opposed to a
 * statement it rejected).
 */
const connectionErrnos = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
]);

/**
 * SQLSTATEs that mean the server is going away or cannot take the connection: class 08
 * (connection exception), 57P01-57P03 (admin/crash shutdown, cannot connect now), 53300
 * (too many connections).
 */
function isUnavailableSqlState(code: string): boolean {
  return code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03" || code === "53300";
}

/** Messages node-pg and PGlite use for a connection that is gone, without an errno or SQLSTATE. */
const connectionMessages = [
  /connection terminated/i,
  /connection timeout/i,
  /timeout exceeded when trying to connect/i,
  /client has encountered a connection error/i,
  /not queryable/i,
  /pglite is closed/i,
];

/** True when `err` means the database is unreachable rather than that a statement failed. */
export function isConnectionError(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof e.code === "string") {
    if (connectionErrnos.has(e.code)) return true;
    if (/^[0-9A-Z]{5}$/.test(e.code) && isUnavailableSqlState(e.code)) return true;
  }
  // Node's happy-eyeballs connect (localhost -> ::1 and 127.0.0.1) fails with an AggregateError.
  if (Array.isArray(e.errors) && e.errors.some(isConnectionError)) return true;
  return typeof e.message === "string" && connectionMessages.some((re) => re.test(e.message as string));
}

/** SQLSTATE query_canceled: a statement timeout or a cancel request stopped the statement. */
const queryCanceled = "57014";

/**
 * Translates a driver error for the stores: unreachable database -> DATABASE_UNAVAILABLE,
 * SQLSTATE class 23 -> {@link SqlConstraintError}, a statement canceled by the statement
 * timeout (`statementTimeoutMs`, for the message) -> DATABASE_STATEMENT_TIMEOUT, by a cancel
 * request -> CANCELED; anything else is returned as it is (the network edge turns it into
 * INTERNAL and logs it).
 */
export function translateSqlError(err: unknown, statementTimeoutMs = 0): unknown {
  if (typeof err === "object" && err !== null) {
    const e = err as { code?: unknown; constraint?: unknown; message?: unknown };
    if (typeof e.code === "string" && e.code.startsWith("23") && e.code.length === 5) {
      return new SqlConstraintError(e.code, typeof e.constraint === "string" ? e.constraint : undefined, {
        cause: err,
      });
    }
    if (e.code === queryCanceled) {
      // PostgreSQL tells the two apart only by its message ("... due to statement timeout").
      return typeof e.message === "string" && /statement timeout/i.test(e.message)
        ? commonErrors.databaseStatementTimeout(statementTimeoutMs, err)
        : commonErrors.canceled();
    }
  }
  if (isConnectionError(err)) return commonErrors.databaseUnavailable(err);
  return err;
}
