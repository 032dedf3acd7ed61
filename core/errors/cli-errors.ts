import { Code } from "./code.js";
import { defineError } from "./define-error.js";

/** Errors the `mlpipe` command reports about its own work (not a server's answer). */
export const cliErrors = {
  serverUnreachable: defineError(
    "CLI_SERVER_UNREACHABLE",
    Code.Unavailable,
    "The CLI could not connect to the server (connection refused, unknown host, connection dropped); exit code 3.",
    (url: string, reason: string) => `cannot reach the server at ${url} (${reason}); is it running? (mlpipe start)`,
  ),
};
