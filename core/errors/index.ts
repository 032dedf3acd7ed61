export { authErrors } from "./auth-errors.js";
export { catalogue } from "./catalogue.js";
export { cliErrors } from "./cli-errors.js";
export { Code, codeFromName, codeName } from "./code.js";
export { commonErrors } from "./common-errors.js";
export { consoleErrors } from "./console-errors.js";
export type { ErrorDefinition, ErrorInfo } from "./define-error.js";
export { defineError } from "./define-error.js";
export { codeToHttpStatus, httpStatusById, httpStatusOf } from "./http-status.js";
export { inferenceErrors } from "./inference-errors.js";
export { mlflowErrors } from "./mlflow-errors.js";
export type { ErrorData, MlpipeErrorOptions } from "./mlpipe-error.js";
export {
  errorJsonBody,
  fromErrorData,
  isErrorData,
  MlpipeError,
  toErrorData,
} from "./mlpipe-error.js";
export { registryErrors } from "./registry-errors.js";
export { sdkErrors } from "./sdk-errors.js";
export { trackingErrors } from "./tracking-errors.js";
