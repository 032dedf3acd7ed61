import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../core/logger.js";
import { createDatabaseReadiness, type DatabaseReadiness } from "./database-readiness.js";

const logger = createLogger({ level: "silent", name: "database-readiness-test" });
let current: DatabaseReadiness | undefined;
afterEach(() => current?.close());

/**
 * A database whose answers the test decides. The real one is used by the registry's integration
 * test (PostgreSQL stopped and restarted); a query that never answers (a network black hole)
 * cannot be made on demand there.
 */
function scriptedDatabase(): { next: "answer" | "fail" | "hang"; ping(): Promise<unknown> } {
  const db = {
    next: "answer" as "answer" | "fail" | "hang",
    ping(): Promise<unknown> {
      if (db.next === "fail") return Promise.reject(new Error("connection refused"));
      if (db.next === "hang") return new Promise(() => {});
      return Promise.resolve();
    },
  };
  return db;
}

describe("database readiness", () => {
  it("starts ready, turns not ready when a probe fails or outlasts its timeout, and ready when one answers", async () => {
    const sql = scriptedDatabase();
    const readiness = createDatabaseReadiness({ ping: sql.ping, intervalMs: 60_000, timeoutMs: 50, logger });
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
    const readiness = createDatabaseReadiness({
      ping: scriptedDatabase().ping,
      intervalMs: 60_000,
      timeoutMs: 50,
      logger,
    });
    readiness.close();
    expect(readiness.readiness.serving).toBe(false);
    expect(await readiness.probe()).toBe(false);
    expect(readiness.readiness.serving).toBe(false);
  });
});
