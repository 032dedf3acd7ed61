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
  downloadChecksumMismatch: defineError(
    "CLI_DOWNLOAD_CHECKSUM_MISMATCH",
    Code.DataLoss,
    "A downloaded artifact does not match the SHA-256 the server announced; the partial file was deleted.",
    (path: string, expected: string, actual: string) =>
      `downloaded "${path}" has sha256 ${actual}, the server announced ${expected}; nothing was written`,
  ),
};
