import { authErrors } from "./auth-errors.js";
import { cliErrors } from "./cli-errors.js";
import { commonErrors } from "./common-errors.js";
import { consoleErrors } from "./console-errors.js";
import type { ErrorInfo } from "./define-error.js";
import { inferenceErrors } from "./inference-errors.js";
import { mlflowErrors } from "./mlflow-errors.js";
import { registryErrors } from "./registry-errors.js";
import { sdkErrors } from "./sdk-errors.js";
import { trackingErrors } from "./tracking-errors.js";

/**
 * Every catalogued error, by domain. docs/errors.md documents each one and a test keeps the two
 * in step: add a domain's table here when you add its errors file.
 */
export const catalogue: Readonly<Record<string, Readonly<Record<string, ErrorInfo>>>> = {
  common: commonErrors,
  cli: cliErrors,
  sdk: sdkErrors,
  tracking: trackingErrors,
  inference: inferenceErrors,
  registry: registryErrors,
  console: consoleErrors,
  mlflow: mlflowErrors,
  auth: authErrors,
};
