/**
 * The inference server as `mlpipe serve` starts it, plus a bench-only trigger for hot
 * swaps (the registry-driven swap is not wired yet): each SIGUSR2 swaps the served model, through
 * the model manager's own `swap`, alternately to the `--swap-with` file and back to MODEL_PATH,
 * with version numbers 2, 3, 4, ... so a client can see each swap land in GET /model/info.
 *
 * `MODEL_PATH=a.onnx ... tsx bench/servers/swap-inference-server.ts --swap-with b.onnx`
 */
import { parseArgs } from "node:util";
import { startInferenceServer } from "../../app/inference-server.js";
import { loadConfig } from "../../core/config.js";
import { createLogger } from "../../core/logger.js";
import { createLocalFileLoader } from "../../server/models/model-loader.js";

const { values } = parseArgs({ options: { "swap-with": { type: "string" } } });
const config = loadConfig(process.env);
const logger = createLogger({ level: config.logLevel, name: "inference-swap-bench" });
const first = config.inference.modelPath;
const second = values["swap-with"];
if (first === undefined || second === undefined) throw new Error("MODEL_PATH and --swap-with are required");
const name = config.inference.modelName;
const server = await startInferenceServer(config, logger, {
  loader: createLocalFileLoader({ path: first, name, version: "1" }),
});
let version = 1;
let swapping: Promise<unknown> = Promise.resolve();
process.on("SIGUSR2", () => {
  version++;
  const loader = createLocalFileLoader({ path: version % 2 === 0 ? second : first, name, version: String(version) });
  swapping = swapping.then(() =>
    server.manager.swap(loader).catch((err: unknown) => logger.error({ err }, "bench swap failed")),
  );
});
process.once("SIGTERM", () => {
  server.shutdown().then(() => process.exit(0));
});
