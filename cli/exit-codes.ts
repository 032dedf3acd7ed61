/**
 * The exit codes of the `mlpipe` command, so scripts can tell what went wrong without parsing
 * messages. Documented in `mlpipe --help` and the README.
 */
export const ExitCode = {
  /** The command did what was asked (a server command: it was stopped by SIGINT or SIGTERM and shut down cleanly). */
  ok: 0,
  /** A server answered with an error (not found, invalid argument, ...), or a server command failed. */
  serverError: 1,
  /** The command line is wrong: unknown command or flag, missing or malformed argument, bad configuration variable, missing local file. */
  usage: 2,
  /** A server could not be reached (connection refused, unknown host, connection dropped). */
  unreachable: 3,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
