import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { join } from "node:path";

/** The repository root (bench/lib/../..). */
export const repoRoot = join(import.meta.dirname, "..", "..");

/** A server under test, running in its own process so the load generator never shares its CPU time slices. */
export interface ChildServer {
  readonly process: ChildProcess;
  readonly pid: number;
  /** The last lines it printed, for error reports. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link startChildServer}. */
export interface ChildServerOptions {
  /** Script (TypeScript, run through tsx) relative to the repository root, e.g. "cli/mlpipe.ts". */
  readonly script: string;
  /**
   * Runs this executable with `[script, ...args]` instead of Node + tsx (e.g. "/usr/bin/python3"
   * for the Python baseline).
   */
  readonly executable?: string;
  readonly args?: readonly string[];
  /** Environment added to a minimal one (PATH, HOME). */
  readonly env: Readonly<Record<string, string>>;
  /** Resolves true once the server answers; polled every 100 ms. */
  readonly ready: () => Promise<boolean>;
  /** Give up after this long (ms, default 60 s). */
  readonly timeoutMs?: number;
}

/** Starts a server script in a child process and waits until `ready()` says it answers. */
export async function startChildServer(options: ChildServerOptions): Promise<ChildServer> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    ...options.env,
  };
  const argv = [options.script, ...(options.args ?? [])];
  const child = spawn(
    options.executable ?? process.execPath,
    options.executable === undefined ? ["--import", "tsx", ...argv] : argv,
    {
      cwd: repoRoot,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    lines.push(chunk.toString("utf8"));
    if (lines.length > 100) lines.shift();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const output = (): string => lines.join("");
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${options.script} exited with ${child.exitCode}:\n${output()}`);
    if (await options.ready().catch(() => false)) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${options.script} did not become ready:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.script} has no pid`);
  return {
    process: child,
    pid,
    output,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
