/** `mlpipe start`: the whole platform from one command (what `npm start` runs). */
import cluster from "node:cluster";
import type { Platform } from "../../app/platform.js";
import type { Config } from "../../core/config.js";
import { createLogger } from "../../core/logger.js";
import type { Command } from "../command.js";
import { runClusterWorker } from "../run-cluster-worker.js";
import { runServer } from "../run-server.js";

/** The `start` command. */
export const startCommand: Command = {
  name: "start",
  section: "Servers",
  summary: "run the platform: tracking + registry on :5000, inference on :8000 (trains a demo model on first start)",
  details: [
    "Runs the tracking + model registry server and the inference server in one process, on embedded",
    "PGlite and a local artifact directory unless DATABASE_URL / ARTIFACT_ROOT say otherwise. With",
    "INFERENCE_HTTP_WORKERS=N (default 1) inference is served by N forked processes instead, which",
    "follow the registry of the first one; that one keeps the registry and its database. When the",
    "registry has no MODEL_NAME model (default iris-classifier), the iris demo is trained, registered",
    "as version 1 and moved to MODEL_STAGE (default Production); later starts reuse what is there.",
    "Every configuration variable applies (see the README); the flags below override theirs.",
    "Ctrl-C or SIGTERM drains in-flight requests and exits 0; a second Ctrl-C stops at once.",
  ].join("\n"),
  arguments: [],
  options: {
    "data-dir": {
      type: "string",
      valueName: "DIR",
      description: "data directory (MLPIPE_DATA_DIR, default ./mlpipe-data)",
    },
    host: { type: "string", valueName: "HOST", description: "interface both servers bind (HOST, default 0.0.0.0)" },
    "registry-port": {
      type: "string",
      valueName: "PORT",
      description: "tracking + registry port (REGISTRY_PORT, default 5000)",
    },
    "inference-port": {
      type: "string",
      valueName: "PORT",
      description: "inference port (INFERENCE_PORT, default 8000)",
    },
    "no-demo": { type: "boolean", description: "do not train the demo model when the registry has none" },
  },
  examples: ["start", "start --data-dir /var/lib/mlpipe --registry-port 5001 --inference-port 8001"],
  async run({ io, args, json, loadConfig }) {
    const config = loadConfig({
      MLPIPE_DATA_DIR: args.string("data-dir"),
      HOST: args.string("host"),
      REGISTRY_PORT: args.string("registry-port"),
      INFERENCE_PORT: args.string("inference-port"),
    });
    // One process by default, unlike serve: each forked one starts a whole inference server after
    // the demo trained, which delays the quick start's first prediction by more than it takes
    // (measured: README, Quick start).
    const processes = config.inference.httpWorkers ?? 1;
    // One of the inference server's HTTP worker processes that startPlatform forked (node:cluster
    // re-runs this command); REGISTRY_URL is the primary's registry.
    if (cluster.isWorker) return runClusterWorker(config, processes);
    const logger = createLogger({ level: config.logLevel, name: "mlpipe" });
    return runServer({
      logger,
      async start() {
        // Imported here: client commands need not load the servers (PGlite, onnxruntime, S3 client).
        const { startPlatform } = await import("../../app/platform.js");
        return startPlatform(config, logger, { demo: !args.boolean("no-demo"), httpWorkers: processes });
      },
      async announce(platform, stopping) {
        // Announce once a model serves, or at once when there is nothing to wait for.
        const announce = platform.model.kind === "nothing-to-serve" ? Promise.resolve() : platform.ready;
        const first = await Promise.race([announce.then(() => "ready" as const), stopping]);
        if (first !== "ready") return;
        const info = readyInfo(platform, config);
        logger.info(info, "platform ready");
        if (json) io.stdout.write(`${JSON.stringify(info)}\n`);
        else io.stderr.write(banner(platform, config));
      },
      async stop(platform) {
        await platform.close();
        logger.info("platform stopped");
      },
    });
  },
};

function readyInfo(platform: Platform, config: Config): Record<string, unknown> {
  const m = platform.model;
  return {
    registryUrl: platform.registryUrl,
    inferenceUrl: platform.inferenceUrl,
    inferenceGrpcUrl: platform.inferenceGrpcUrl,
    dataDir: config.dataDir,
    database: config.databaseUrl === undefined ? "pglite" : "postgresql",
    artifactRoot: config.artifactRoot,
    model: config.inference.modelName,
    stage: config.inference.modelStage,
    inferenceProcesses: platform.inferenceProcesses,
    serving: platform.serving,
    bootstrap: m.kind,
    ...(m.kind === "trained" || m.kind === "existing" ? { version: m.version.toString() } : {}),
  };
}

function banner(platform: Platform, config: Config): string {
  const c = config.inference;
  const m = platform.model;
  const model =
    m.kind === "trained"
      ? `${c.modelName} version ${m.version} at ${c.modelStage} (trained just now, accuracy ${m.accuracy.toFixed(3)})`
      : m.kind === "existing"
        ? `${c.modelName} version ${m.version} at ${c.modelStage}`
        : m.kind === "local-file"
          ? `${c.modelPath ?? ""} (MODEL_PATH)`
          : `waiting for a version of ${c.modelName} at ${c.modelStage} (register one: mlpipe register ${c.modelName} model.onnx)`;
  const storage =
    config.databaseUrl === undefined
      ? `${config.dataDir} (PGlite database in db/, artifacts in ${config.artifactRoot})`
      : `PostgreSQL (DATABASE_URL), artifacts in ${config.artifactRoot}`;
  const processes = platform.inferenceProcesses === 1 ? "" : `, ${platform.inferenceProcesses} processes`;
  const predictUrl = `${platform.inferenceUrl.replace("127.0.0.1", "localhost")}/predict`;
  return [
    "",
    "mlpipe is running",
    `  tracking + registry  ${platform.registryUrl}  (gRPC, Connect, gRPC-Web)`,
    `  web console          ${platform.registryUrl.replace("127.0.0.1", "localhost")}/`,
    `  inference            ${platform.inferenceUrl}  (POST /predict, gRPC, Connect; API docs at /docs${processes})`,
    `  data                 ${storage}`,
    `  model                ${model}`,
    "",
    "Try:",
    `  curl -X POST ${predictUrl} -H 'Content-Type: application/json' -d '{"features": [5.1, 3.5, 1.4, 0.2]}'`,
    `  mlpipe models list${platform.registryUrl.endsWith(":5000") ? "" : ` --registry-url ${platform.registryUrl}`}`,
    "",
    "Ctrl-C stops (data is kept).",
    "",
    "",
  ].join("\n");
}
