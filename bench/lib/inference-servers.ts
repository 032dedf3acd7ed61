/**
 * Starts the servers the inference scenarios measure, each in its own process: mlpipe's inference
 * server (`mlpipe serve` with a model file or following the registry, or the swap
 * wrapper), the no-op transport ceiling, the naive Node server and the FastAPI stack. Each
 * resolves once the server answers.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { type ChildServer, freePort, repoRoot, startChildServer } from "./child-server.js";

/** A started server and the base URL to reach it. */
export interface StartedServer {
  readonly child: ChildServer;
  readonly url: string;
}

/** Settings of mlpipe's inference server under test. */
export interface MlpipeServerOptions {
  /** The `.onnx` file served. */
  readonly modelPath: string;
  /** Worker threads (INFERENCE_WORKERS). */
  readonly workers: number;
  /** More environment (e.g. MAX_QUEUE_SIZE). */
  readonly env?: Readonly<Record<string, string>>;
  /** Serve through bench/servers/swap-inference-server.ts, swapping to this file on SIGUSR2. */
  readonly swapWith?: string;
}

async function answers(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.status === 200;
}

/** Starts mlpipe's inference server; ready when GET /health/ready answers 200. */
export async function startMlpipeServer(options: MlpipeServerOptions): Promise<StartedServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = await startChildServer({
    script: options.swapWith === undefined ? "cli/mlpipe.ts" : "bench/servers/swap-inference-server.ts",
    args: options.swapWith === undefined ? ["serve"] : ["--swap-with", options.swapWith],
    env: {
      HOST: "127.0.0.1",
      INFERENCE_PORT: String(port),
      INFERENCE_WORKERS: String(options.workers),
      MODEL_PATH: options.modelPath,
      LOG_LEVEL: "warn",
      ...options.env,
    },
    ready: () => answers(`${url}/health/ready`),
  });
  return { child, url };
}

/** Settings of mlpipe's inference server serving from the model registry. */
export interface MlpipeRegistryServerOptions {
  /** The registry's base URL (REGISTRY_URL). */
  readonly registryUrl: string;
  /** Registered model served (MODEL_NAME). */
  readonly modelName: string;
  /** Stage or alias followed (MODEL_STAGE), e.g. "Production". */
  readonly stage: string;
  /** Worker threads (INFERENCE_WORKERS). */
  readonly workers: number;
  /** Directory of its model cache (MLPIPE_DATA_DIR; the cache is `<dir>/model-cache`). */
  readonly dataDir: string;
}

/**
 * Starts mlpipe's inference server in registry mode (no MODEL_PATH): it follows `stage` of
 * `modelName` over the registry's Watch stream. Ready when GET /health/ready answers 200, that is
 * once a version is in the stage and loaded: promote one before calling this.
 */
export async function startMlpipeRegistryServer(options: MlpipeRegistryServerOptions): Promise<StartedServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = await startChildServer({
    script: "cli/mlpipe.ts",
    args: ["serve"],
    env: {
      HOST: "127.0.0.1",
      INFERENCE_PORT: String(port),
      INFERENCE_WORKERS: String(options.workers),
      REGISTRY_URL: options.registryUrl,
      MODEL_NAME: options.modelName,
      MODEL_STAGE: options.stage,
      MLPIPE_DATA_DIR: options.dataDir,
      LOG_LEVEL: "warn",
    },
    ready: () => answers(`${url}/health/ready`),
  });
  return { child, url };
}

/** Starts the no-op transport-ceiling server (bench/servers/noop-inference-server.ts). */
export async function startNoopServer(): Promise<StartedServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = await startChildServer({
    script: "bench/servers/noop-inference-server.ts",
    args: ["--port", String(port)],
    env: {},
    ready: async () => {
      const res = await fetch(`${url}/predict`, { method: "POST", body: '{"features":[1,2,3,4]}' });
      await res.arrayBuffer();
      return res.status === 200;
    },
  });
  return { child, url };
}

/** Starts the naive Node baseline (bench/baselines/naive-node-server.ts). */
export async function startNaiveServer(modelPath: string): Promise<StartedServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = await startChildServer({
    script: "bench/baselines/naive-node-server.ts",
    args: ["--port", String(port), "--model", modelPath],
    env: {},
    ready: async () => {
      const res = await fetch(`${url}/predict`, { method: "POST", body: '{"features":[1,2,3,4]}' });
      await res.arrayBuffer();
      return res.status === 200;
    },
  });
  return { child, url };
}

/**
 * A Python 3 that can import fastapi, uvicorn and sklearn: `python3` on the PATH first, then
 * /usr/bin/python3 (Debian's python3-fastapi etc. when a pyenv shim shadows it). Undefined when
 * none can, and the FastAPI baseline is reported as skipped.
 */
export function findFastapiPython(): string | undefined {
  for (const candidate of ["python3", "/usr/bin/python3"]) {
    try {
      execFileSync(candidate, ["-c", "import fastapi, uvicorn, sklearn"], { stdio: "ignore", timeout: 20_000 });
      return candidate;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** Starts the FastAPI + uvicorn + scikit-learn baseline with `workers` uvicorn processes. */
export async function startFastapiServer(python: string, workers: number): Promise<StartedServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = await startChildServer({
    executable: python,
    script: join(repoRoot, "bench", "baselines", "fastapi_server.py"),
    args: ["--port", String(port), "--csv", join(repoRoot, "data", "iris.csv"), "--workers", String(workers)],
    env: {},
    ready: () => answers(`${url}/health`),
  });
  return { child, url };
}
