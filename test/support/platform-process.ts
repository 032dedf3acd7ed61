/**
 * `mlpipe start` (what `npm start` runs) as a child process for end-to-end tests, benchmarks and
 * screenshots: on 127.0.0.1, free ports and a data directory of the caller's, with one inference
 * worker. Resolves once it logs "platform ready" (the demo model trained and served).
 */
import type { ChildProcess } from "node:child_process";
import { spawnServerProcess } from "./server-process.js";

const bin = new URL("../../bin/mlpipe.js", import.meta.url).pathname;

/** The "platform ready" log line. */
export interface PlatformReady {
  readonly registryUrl: string;
  readonly inferenceUrl: string;
  readonly version?: string;
}

/** A running platform process. */
export interface PlatformProcess {
  readonly ready: PlatformReady;
  readonly child: ChildProcess;
  /** Milliseconds from spawn to the ready line. */
  readonly startupMs: number;
  /** SIGTERM, then SIGKILL after 30 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

/** Options of {@link startPlatformProcess}. */
export interface PlatformProcessOptions {
  readonly dataDir: string;
  /** Extra environment (CONSOLE_INFERENCE_URL, ...); LOG_LEVEL stays "info", which the ready line needs. */
  readonly env?: Readonly<Record<string, string>>;
  /** Every child is pushed here at once, so the caller's cleanup can kill it whatever happens. */
  readonly children: ChildProcess[];
}

/** Spawns `node bin/mlpipe.js start` and waits until it is ready (bounded by the caller's test timeout). */
export async function startPlatformProcess(options: PlatformProcessOptions): Promise<PlatformProcess> {
  const started = performance.now();
  const server = await spawnServerProcess<PlatformReady>({
    args: [
      bin,
      "start",
      "--data-dir",
      options.dataDir,
      "--host",
      "127.0.0.1",
      "--registry-port",
      "0",
      "--inference-port",
      "0",
    ],
    env: { PATH: process.env.PATH ?? "", INFERENCE_WORKERS: "1", ...options.env, LOG_LEVEL: "info" },
    readyMessage: "platform ready",
    children: options.children,
  });
  const startupMs = performance.now() - started;
  return {
    ready: server.ready,
    child: server.child,
    startupMs,
    async stop() {
      if (server.child.exitCode !== null || server.child.signalCode !== null) return;
      server.child.kill("SIGTERM");
      const timer = setTimeout(() => server.child.kill("SIGKILL"), 30_000);
      await server.exit;
      clearTimeout(timer);
    },
  };
}
