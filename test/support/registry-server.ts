import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RegistryServer, startRegistryServer } from "../../app/registry-server.js";
import { type Config, loadConfig } from "../../core/config.js";
import { createLogger, type LogLevel } from "../../core/logger.js";
import { captureLog } from "./captured-log.js";

/** A registry server started by a test, with its data in a temporary directory. */
export interface TestRegistryServer {
  /** Base URL for Connect/JSON over HTTP/1.1, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** `127.0.0.1:<port>`, what gRPC clients dial. */
  readonly address: string;
  readonly port: number;
  /** The configuration it runs with. */
  readonly config: Config;
  /** The temporary data directory (PGlite database, local artifacts unless ARTIFACT_ROOT is set). */
  readonly dataDir: string;
  /** Log lines written so far, parsed (JSON objects), oldest first. */
  logs(): readonly Record<string, unknown>[];
  /** Stops the server and deletes the data directory. */
  close(): Promise<void>;
}

/** Options of {@link startTestRegistryServer}. */
export interface TestRegistryServerOptions {
  /**
   * Extra environment (DATABASE_URL, ARTIFACT_ROOT, S3_*, MAX_REQUEST_BYTES, ...). MLPIPE_DATA_DIR,
   * HOST (127.0.0.1) and REGISTRY_PORT (0) are set by the harness unless given here.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Level of the captured log; default "info". */
  readonly logLevel?: LogLevel;
}

/** Starts the real registry server (startRegistryServer) on an ephemeral port of 127.0.0.1. */
export async function startTestRegistryServer(options: TestRegistryServerOptions = {}): Promise<TestRegistryServer> {
  const dataDir = await mkdtemp(join(tmpdir(), "mlpipe-registry-"));
  const { lines, destination } = captureLog();
  const config = loadConfig({ MLPIPE_DATA_DIR: dataDir, HOST: "127.0.0.1", REGISTRY_PORT: "0", ...options.env });
  const logger = createLogger({ level: options.logLevel ?? "info", name: "registry-test", destination });
  let server: RegistryServer;
  try {
    server = await startRegistryServer(config, logger);
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: server.url,
    address: `127.0.0.1:${server.port}`,
    port: server.port,
    config,
    dataDir,
    logs: () => lines,
    async close() {
      await server.close(1_000);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
