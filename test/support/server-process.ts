import { type ChildProcess, spawn } from "node:child_process";

/** A server a test spawned as a Node.js child process, once it logged that it is ready. */
export interface ServerProcess<R> {
  readonly child: ChildProcess;
  /** The log line announcing the server is ready. */
  readonly ready: R;
  /** Every JSON log line of its stdout so far. */
  readonly logs: Record<string, unknown>[];
  /** Resolves with the exit code when it exits. */
  readonly exit: Promise<number | null>;
}

/** Options of {@link spawnServerProcess}. */
export interface SpawnServerOptions {
  /** Arguments of `node` (a script and its arguments, with `--import` flags before). */
  readonly args: readonly string[];
  /** The environment of the child, plus the test run's TMPDIR unless it sets its own. */
  readonly env: Readonly<Record<string, string>>;
  /** The `msg` of the log line that says it is ready. */
  readonly readyMessage: string;
  /** The child is added here at once, so the test's afterAll can kill it even if it never gets ready. */
  readonly children: ChildProcess[];
}

/**
 * Spawns `node <args>` with its stdout (JSON log lines) collected; resolves once it logs
 * `readyMessage`, rejects (with its stderr) when it exits before.
 */
export function spawnServerProcess<R>(options: SpawnServerOptions): Promise<ServerProcess<R>> {
  // The run's temporary directory (temp-root.ts) reaches servers given a minimal environment too.
  const tmp = process.env.TMPDIR === undefined ? {} : { TMPDIR: process.env.TMPDIR };
  const child = spawn(process.execPath, options.args, {
    env: { ...tmp, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  options.children.push(child);
  const logs: Record<string, unknown>[] = [];
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    let buffered = "";
    child.stdout?.on("data", (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith("{")) continue;
        const log = JSON.parse(line) as Record<string, unknown>;
        logs.push(log);
        if (log.msg === options.readyMessage) resolve({ child, ready: log as R, logs, exit });
      }
    });
    void exit.then((code) =>
      reject(new Error(`node ${options.args.join(" ")} exited with ${code} before ready: ${stderr}${buffered}`)),
    );
  });
}
