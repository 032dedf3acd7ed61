import { Code } from "./code.js";
import { defineError } from "./define-error.js";

/**
 * Errors the SDK reports about its own work (not a server's answer); the `mlpipe` command, built
 * on the SDK, reports them too.
 */
export const sdkErrors = {
  artifactNotFound: defineError(
    "SDK_ARTIFACT_NOT_FOUND",
    Code.NotFound,
    "The run has no artifact file or directory at the path asked for; nothing was downloaded.",
    (runId: string, path: string, what: "file or directory" | "directory") =>
      `run ${runId} has no artifact ${what} "${path}"`,
    () => ({ field: "path" }),
  ),
  downloadChecksumMismatch: defineError(
    "SDK_DOWNLOAD_CHECKSUM_MISMATCH",
    Code.DataLoss,
    "A downloaded artifact does not match the SHA-256 the server announced; the partial file was deleted.",
    (path: string, expected: string, actual: string) =>
      `downloaded "${path}" has sha256 ${actual}, the server announced ${expected}; nothing was written`,
  ),
  artifactPathUnsafe: defineError(
    "SDK_ARTIFACT_PATH_UNSAFE",
    Code.DataLoss,
    "The server listed an artifact whose path would be written outside the download's destination; nothing was written for it.",
    (path: string, dir: string) =>
      `the server listed artifact "${path}" for directory "${dir}", which would be written outside the destination; refused`,
  ),
};
