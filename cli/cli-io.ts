/**
 * What a command may touch of its process: the output streams, the environment and the working
 * directory. The entry point passes the real ones; tests pass captured ones.
 */

/** A text sink (stdout or stderr). */
export interface CliOutput {
  write(text: string): void;
  /** True when the stream is a terminal: progress bars are drawn only then. */
  readonly isTTY: boolean;
  /** Width of the terminal in characters, when known. */
  readonly columns?: number | undefined;
}

/** The process-facing side of the CLI. */
export interface CliIo {
  /** Results: tables, or JSON with `--json`. */
  readonly stdout: CliOutput;
  /** Errors, progress bars and the banner of server commands. */
  readonly stderr: CliOutput;
  /** The environment, read only through loadConfig (see core/config.ts). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
}

/** The real process's {@link CliIo}. */
export function processIo(): CliIo {
  const wrap = (stream: NodeJS.WriteStream): CliOutput => ({
    write: (text) => {
      stream.write(text);
    },
    get isTTY() {
      return stream.isTTY === true;
    },
    get columns() {
      return stream.columns;
    },
  });
  return { stdout: wrap(process.stdout), stderr: wrap(process.stderr), env: process.env, cwd: process.cwd() };
}
