// The image's HEALTHCHECK: exits 0 when the process this container runs is ready, 1 otherwise.
// It reads the command of PID 1 (`node bin/mlpipe.js <command>`) to know what to probe:
// `registry` -> the registry's /health/ready (its database answers), `serve` -> the inference
// server's /health/ready (a model is loaded), `start` -> both. Plain JavaScript so that a probe
// every few seconds costs one short Node process, without tsx.
import { readFileSync } from "node:fs";

const argv = readFileSync("/proc/1/cmdline", "utf8").split("\0");
const command = argv.find((a) => a === "start" || a === "registry" || a === "serve");
const host = ["", "0.0.0.0", "::"].includes(process.env.HOST ?? "") ? "127.0.0.1" : process.env.HOST;
const urlHost = host?.includes(":") ? `[${host}]` : host;
const ports = {
  registry: [process.env.REGISTRY_PORT ?? "5000"],
  serve: [process.env.INFERENCE_PORT ?? "8000"],
  start: [process.env.REGISTRY_PORT ?? "5000", process.env.INFERENCE_PORT ?? "8000"],
};

async function ready(port) {
  try {
    const res = await fetch(`http://${urlHost}:${port}/health/ready`, { signal: AbortSignal.timeout(3000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

const results = await Promise.all((command === undefined ? [] : ports[command]).map(ready));
process.exit(results.every(Boolean) ? 0 : 1);
