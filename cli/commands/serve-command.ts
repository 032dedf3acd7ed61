/** `mlpipe serve`: the inference server alone, serving a model from a registry or a local file. */
import cluster from "node:cluster";
import { availableParallelism } from "node:os";
import { createLogger } from "../../core/logger.js";
import type { Command } from "../command.js";
import { defaultRegistryUrl } from "../run-cli.js";
import { runClusterWorker } from "../run-cluster-worker.js";
import { runServer } from "../run-server.js";

/** The `serve` command. */
export const serveCommand: Command = {
  name: "serve",
  section: "Servers",
  summary: "run the inference server alone (port 8000), following a model in a registry",
  details: [
    "Serves MODEL_NAME (default iris-classifier) at MODEL_STAGE (a stage or an alias, default",
    "Production) from the registry at --registry-url (else REGISTRY_URL, else MLFLOW_TRACKING_URI,",
    "else http://localhost:5000), swapping versions as the registry moves them; or a local ONNX file",
    "with --model-path. It is ready (GET /health/ready) once a model is loaded. Ctrl-C or SIGTERM",
    "drains and exits 0.",
    "It serves from one process per core (INFERENCE_HTTP_WORKERS; 1 for a single process).",
  ].join("\n"),
  arguments: [],
  options: {
    "model-name": {
      type: "string",
      valueName: "NAME",
      description: "registered model (MODEL_NAME, default iris-classifier)",
    },
    stage: {
      type: "string",
      valueName: "STAGE",
      description: "stage or alias to serve (MODEL_STAGE, default Production)",
    },
    "model-path": { type: "string", valueName: "FILE", description: "serve a local .onnx file instead (MODEL_PATH)" },
    host: { type: "string", valueName: "HOST", description: "interface to bind (HOST, default 0.0.0.0)" },
    port: { type: "string", valueName: "PORT", description: "port (INFERENCE_PORT, default 8000)" },
    "grpc-port": {
      type: "string",
      valueName: "PORT",
      description: "an extra port for gRPC clients (INFERENCE_GRPC_PORT)",
    },
    "data-dir": {
      type: "string",
      valueName: "DIR",
      description: "where downloaded models are cached (MLPIPE_DATA_DIR)",
    },
  },
  examples: ["serve --registry-url http://registry:5000 --stage champion", "serve --model-path model.onnx --port 9000"],
  async run({ io, args, json, loadConfig }) {
    const explicitRegistry = args.string("registry-url");
    const base = loadConfig();
    const modelPath = args.string("model-path") ?? base.inference.modelPath;
    const config = loadConfig({
      MLPIPE_DATA_DIR: args.string("data-dir"),
      HOST: args.string("host"),
      INFERENCE_PORT: args.string("port"),
      INFERENCE_GRPC_PORT: args.string("grpc-port"),
      MODEL_NAME: args.string("model-name"),
      MODEL_STAGE: args.string("stage"),
      MODEL_PATH: args.string("model-path"),
      REGISTRY_URL:
        explicitRegistry ?? (modelPath === undefined ? (base.inference.registryUrl ?? defaultRegistryUrl) : undefined),
    });
    const processes = config.inference.httpWorkers ?? availableParallelism();
    // One of the HTTP worker processes the primary below forked (node:cluster re-runs this command).
    if (cluster.isWorker) return runClusterWorker(config, processes);
    const logger = createLogger({ level: config.logLevel, name: "inference" });
    const announce = (server: { readonly url: string; readonly grpcUrl: string }): void => {
      const c = config.inference;
      const what =
        c.modelPath !== undefined ? c.modelPath : `${c.modelName} at ${c.modelStage} from ${c.registryUrl ?? ""}`;
      logger.info({ url: server.url, grpcUrl: server.grpcUrl, processes }, "inference server started");
      if (json)
        io.stdout.write(`${JSON.stringify({ inferenceUrl: server.url, grpcUrl: server.grpcUrl, serving: what })}\n`);
      else
        io.stderr.write(
          `\nmlpipe inference server listening on ${server.url} (${processes} process${processes === 1 ? "" : "es"}), serving ${what}; Ctrl-C stops.\n\n`,
        );
    };
    if (processes > 1) {
      return runServer({
        logger,
        async start() {
          const { startInferenceCluster } = await import("../../app/inference-cluster.js");
          return startInferenceCluster(config, logger, { processes });
        },
        announce: (server) => announce(server),
        stop: (server) => server.shutdown(),
      });
    }
    return runServer({
      logger,
      async start() {
        // Imported here: client commands need not load the server (onnxruntime, worker pool).
        const { startInferenceServer } = await import("../../app/inference-server.js");
        return startInferenceServer(config, logger);
      },
      announce: (server) => announce(server),
      stop: (server) => server.shutdown(),
    });
  },
};
