import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../core/logger.js";
import type { SqlQueryable, SqlResult } from "../../storage/sql/sql-client.js";
import { createDatabaseReadiness, type DatabaseReadiness } from "./database-readiness.js";

const logger = createLogger({ level: "silent", name: "database-readiness-test" });
let current: DatabaseReadiness | undefined;
afterEach(() => current?.close());

/**
 * A database whose answers the test decides. The real one is used by the registry's integration
 * test (PostgreSQL stopped and restarted); a query that never answers (a network black hole)
 * cannot be made on demand there.
 */
function scriptedDatabase(): SqlQueryable & { next: "answer" | "fail" | "hang" } {
  return {
    next: "answer",
    query<R extends object>(): Promise<SqlResult<R>> {
      if (this.next === "fail") return Promise.reject(new Error("connection refused"));
      if (this.next === "hang") return new Promise(() => {});
      return Promise.resolve({ rows: [], affectedRows: 0 });
    },
  };
}

describe("database readiness", () => {
  it("starts ready, turns not ready when a probe fails or outlasts its timeout, and ready when one answers", async () => {
    const sql = scriptedDatabase();
    const readiness = createDatabaseReadiness({ sql, intervalMs: 60_000, timeoutMs: 50, logger });
    current = readiness;
    const seen: boolean[] = [];
    readiness.readiness.subscribe((serving) => seen.push(serving));
    expect(readiness.readiness.serving).toBe(true);
    sql.next = "fail";
    expect(await readiness.probe()).toBe(false);
    sql.next = "answer";
    expect(await readiness.probe()).toBe(true);
    sql.next = "hang";
    expect(await readiness.probe()).toBe(false);
    expect(seen).toEqual([false, true, false]);
  });

  it("reports not ready once closed, whatever the database says", async () => {
    const readiness = createDatabaseReadiness({ sql: scriptedDatabase(), intervalMs: 60_000, timeoutMs: 50, logger });
    readiness.close();
    expect(readiness.readiness.serving).toBe(false);
    expect(await readiness.probe()).toBe(false);
    expect(readiness.readiness.serving).toBe(false);
  });
});
