import { Code } from "./code.js";
import { defineError } from "./define-error.js";

/** Errors of the web console's HTTP routes on the registry port (static assets, the serving proxy). */
export const consoleErrors = {
  assetNotFound: defineError(
    "CONSOLE_ASSET_NOT_FOUND",
    Code.NotFound,
    "The console has no file at this path (an asset of an older or newer build?); reload the console.",
    (path: string) => `the console has no asset ${path}; reload the page`,
  ),
  notBuilt: defineError(
    "CONSOLE_NOT_BUILT",
    Code.Unavailable,
    "The console's built files (console/dist) are missing from this installation; the APIs work without them.",
    () => "the console is not available: console/dist is missing from this installation (run npm run console:build)",
  ),
  inferenceNotConfigured: defineError(
    "CONSOLE_INFERENCE_NOT_CONFIGURED",
    Code.FailedPrecondition,
    "No inference server is configured for the console's Serving page; set CONSOLE_INFERENCE_URL.",
    () => "no inference server is configured for the console: set CONSOLE_INFERENCE_URL on the registry",
  ),
  inferenceUnreachable: defineError(
    "CONSOLE_INFERENCE_UNREACHABLE",
    Code.Unavailable,
    "The inference server configured for the console did not answer (refused, timed out or answered too much).",
    (url: string, reason: string) => `the inference server at ${url} did not answer: ${reason}`,
  ),
};
