/** `mlpipe registry`: the tracking + model registry server alone. */
import { createLogger } from "../../core/logger.js";
import type { Command } from "../command.js";
import { runServer } from "../run-server.js";

/** The `registry` command. */
export const registryCommand: Command = {
  name: "registry",
  section: "Servers",
  summary: "run the tracking + model registry server alone (port 5000)",
  details: [
    "Serves experiment tracking, artifacts and the model registry over gRPC, Connect and gRPC-Web on",
    "one port, on embedded PGlite and a local artifact directory unless DATABASE_URL / ARTIFACT_ROOT",
    "say otherwise. Inference servers started with `mlpipe serve --registry-url` follow it.",
  ].join("\n"),
  arguments: [],
  options: {
    "data-dir": {
      type: "string",
      valueName: "DIR",
      description: "data directory (MLPIPE_DATA_DIR, default ./mlpipe-data)",
    },
    host: { type: "string", valueName: "HOST", description: "interface to bind (HOST, default 0.0.0.0)" },
    port: { type: "string", valueName: "PORT", description: "port (REGISTRY_PORT, default 5000)" },
  },
  examples: ["registry", "registry --port 5001 --data-dir /var/lib/mlpipe"],
  async run({ io, args, json, loadConfig }) {
    const config = loadConfig({
      MLPIPE_DATA_DIR: args.string("data-dir"),
      HOST: args.string("host"),
      REGISTRY_PORT: args.string("port"),
    });
    const logger = createLogger({ level: config.logLevel, name: "mlpipe" });
    return runServer({
      logger,
      async start() {
        // Imported here: client commands need not load the server (PGlite, S3 client).
        const { startRegistryServer } = await import("../../app/registry-server.js");
        return startRegistryServer(config, logger);
      },
      announce(server) {
        logger.info({ url: server.url, port: server.port }, "registry ready");
        if (json) io.stdout.write(`${JSON.stringify({ registryUrl: server.url, dataDir: config.dataDir })}\n`);
        else
          io.stderr.write(`\nmlpipe registry listening on ${server.url} (gRPC, Connect, gRPC-Web); Ctrl-C stops.\n\n`);
      },
      stop: (server) => server.close(),
    });
  },
};
