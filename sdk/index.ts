export type { DownloadOptions } from "./artifact-download.js";
export {
  checkArtifactPath,
  downloadArtifactDir,
  downloadArtifactFile,
  listArtifactFiles,
  statArtifact,
} from "./artifact-download.js";
export { sha256File, uploadArtifactDir, uploadArtifactFile, uploadChunkBytes } from "./artifact-upload.js";
export type { ClientProtocol, ClientTransportOptions } from "./client-transport.js";
export { createClientTransport } from "./client-transport.js";
export { getOrCreateExperiment } from "./experiment-lookup.js";
export { maxBatchMetrics, maxBatchParams, maxBatchTags } from "./log-batcher.js";
export type { MlpipeClient, MlpipeClientOptions, StartRunOptions } from "./mlpipe-client.js";
export { createMlpipeClient } from "./mlpipe-client.js";
export type { RegisterModelOptions, SetStageOptions, StageName } from "./model-registry-helpers.js";
export { isStageName } from "./model-registry-helpers.js";
export type { RetryPolicy } from "./retry-policy.js";
export { defaultRetryPolicy, isTransient } from "./retry-policy.js";
export type { ParamValue, RunEndStatus, RunHandle } from "./run-handle.js";
