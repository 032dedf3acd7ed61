import { ConfigError, loadConfig } from "../core/config.js";
import { createLogger } from "../core/logger.js";
import { startRegistryServer } from "./registry-server.js";

/**
 * `npm start`: reads the configuration from the environment, starts the tracking + registry
 * server and serves until SIGINT or SIGTERM, then shuts down gracefully and exits 0. A
 * configuration error prints its message (naming the variable) and exits 2.
 */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`mlpipe: ${err.message}\n`);
    process.exit(2);
  }
  const logger = createLogger({ level: config.logLevel, name: "mlpipe" });
  const registry = await startRegistryServer(config, logger);
  logger.info(
    { url: registry.url, grpc: `${config.registry.host}:${registry.port}` },
    `tracking server listening on ${registry.url} (gRPC, gRPC-Web and Connect)`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    registry.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`mlpipe: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
