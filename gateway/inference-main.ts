/**
 * Entry point of the inference server process (`tsx gateway/inference-main.ts`): reads the
 * configuration, starts the server, logs "inference server ready" once a model is served (at once
 * for MODEL_PATH; when the registry delivers one otherwise), and on SIGTERM/SIGINT drains and
 * exits 0 (1 if startup fails, 2 on a configuration error).
 */
import { ConfigError, loadConfig } from "../core/config.js";
import { createLogger } from "../core/logger.js";
import { startInferenceServer } from "./inference-server.js";

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, name: "inference" });
  let server: Awaited<ReturnType<typeof startInferenceServer>>;
  try {
    server = await startInferenceServer(config, logger);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(2);
    }
    logger.fatal({ err }, "inference server failed to start");
    process.exit(1);
  }
  const urls = { url: server.url, grpcUrl: server.grpcUrl };
  if (server.readiness.serving) {
    logger.info(urls, "inference server ready");
  } else {
    logger.info(urls, "inference server listening; not ready until the registry delivers a model");
    const off = server.readiness.subscribe((serving) => {
      if (!serving) return;
      off();
      logger.info(urls, "inference server ready");
    });
  }
  const stop = (signal: string): void => {
    logger.info({ signal }, "shutdown requested");
    server.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

void main();
