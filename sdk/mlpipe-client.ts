import { type Client, createClient } from "@connectrpc/connect";
import { commonErrors } from "../core/errors/common-errors.js";
import { type ModelVersion, RegistryService } from "../gen/mlpipe/registry/v1/registry_pb.js";
import { type Experiment, type FileInfo, TrackingService } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { type DownloadOptions, downloadArtifactDir, downloadArtifactFile } from "./artifact-download.js";
import { type ClientProtocol, createClientTransport } from "./client-transport.js";
import { getOrCreateExperiment } from "./experiment-lookup.js";
import { maxBatchMetrics } from "./log-batcher.js";
import {
  pointAlias,
  type RegisterModelOptions,
  registerModelVersion,
  type SetStageOptions,
  type StageName,
  transitionStage,
} from "./model-registry-helpers.js";
import { defaultRetryPolicy, type RetryPolicy } from "./retry-policy.js";
import { createRunHandle, type RunHandle } from "./run-handle.js";

/** Options of {@link createMlpipeClient}. */
export interface MlpipeClientOptions {
  /** Base URL of the tracking + registry server, e.g. "http://127.0.0.1:5000". */
  readonly url: string;
  /** Wire protocol: "connect" over HTTP/1.1 (default) or "grpc" over HTTP/2. */
  readonly protocol?: ClientProtocol;
  /** Who is acting, sent as the `mlpipe-actor` header and recorded in the registry's audit log. */
  readonly actor?: string;
  /** API token sent as `Authorization: Bearer` (servers with REGISTRY_AUTH=token); default none. */
  readonly token?: string;
  /** Deadline of each call in milliseconds, artifact uploads included; default none. */
  readonly timeoutMs?: number;
  /** CA certificates, PEM, trusted for an https server besides Node's bundle; default none. */
  readonly ca?: string | Buffer;
  /** A PEM CA file read at creation for {@link ca} (MLPIPE_CA_FILE in the CLI); default none. */
  readonly caFile?: string;
  /** Longest a logged metric, param or tag waits before it is sent, in ms; default 1000. */
  readonly flushIntervalMs?: number;
  /** Buffered entries per run above which logging waits for the server; default 10,000 (ten full batches). */
  readonly maxBufferedEntries?: number;
  /** Retries of LogBatch calls on UNAVAILABLE, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED; default 4 attempts. */
  readonly retryPolicy?: RetryPolicy;
}

/** Options of {@link MlpipeClient.startRun}. */
export interface StartRunOptions {
  /** Name of the experiment, created when no active experiment has it; default: the server's "Default" experiment. */
  readonly experiment?: string;
  /** Name of the run; default: a name the server generates. */
  readonly runName?: string;
  /** Tags set when the run is created. */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The mlpipe SDK: experiment tracking and the model registry over the generated clients. Every
 * failed call rejects with the server's ConnectError (its `code` and `rawMessage` are the
 * server's), or with an MlpipeError for arguments refused before any call.
 */
export interface MlpipeClient {
  /** The generated TrackingService client, for calls the helpers do not cover. */
  readonly tracking: Client<typeof TrackingService>;
  /** The generated RegistryService client, for calls the helpers do not cover. */
  readonly registry: Client<typeof RegistryService>;
  /** The active experiment with this name, created if missing. */
  getOrCreateExperiment(name: string): Promise<Experiment>;
  /** Creates a run (status RUNNING) and returns its handle; end it with {@link RunHandle.end}. */
  startRun(options?: StartRunOptions): Promise<RunHandle>;
  /**
   * Runs `body` inside a new run: ends it FINISHED when `body` resolves, FAILED when it throws (and
   * rethrows that error, after ending the run). Resolves with what `body` resolved with.
   */
  withRun<T>(options: StartRunOptions, body: (run: RunHandle) => Promise<T>): Promise<T>;
  /**
   * Registers a new version of model `name` from `source` (`runs:/<run_id>/<path>`, see
   * {@link RunHandle.artifactSource}), creating the model if needed; rejects when the version's
   * registration failed (REGISTRY_VERSION_NOT_READY with the server's reason).
   */
  registerModel(name: string, source: string, options?: RegisterModelOptions): Promise<ModelVersion>;
  /** Moves a version to a stage ("None", "Staging", "Production", "Archived"). */
  setStage(name: string, version: number | bigint, stage: StageName, options?: SetStageOptions): Promise<ModelVersion>;
  /** Points an alias of a model at a version. */
  setAlias(name: string, alias: string, version: number | bigint): Promise<void>;
  /**
   * Downloads the artifact file `artifactPath` of any run to `localFile`, SHA-256 checked and
   * written atomically (see {@link downloadArtifactFile}).
   */
  downloadArtifact(
    runId: string,
    artifactPath: string,
    localFile: string,
    options?: DownloadOptions,
  ): Promise<FileInfo>;
  /**
   * Downloads every file under the artifact directory `artifactDir` of any run ("" for all) into
   * `localDir`, keeping their layout below it: the counterpart of {@link RunHandle.logArtifacts}
   * (see {@link downloadArtifactDir}).
   */
  downloadArtifacts(
    runId: string,
    artifactDir: string,
    localDir: string,
    options?: DownloadOptions,
  ): Promise<FileInfo[]>;
}

/** Creates an {@link MlpipeClient}; no connection is made until the first call. */
export function createMlpipeClient(options: MlpipeClientOptions): MlpipeClient {
  const transport = createClientTransport({
    url: options.url,
    ...(options.protocol === undefined ? {} : { protocol: options.protocol }),
    ...(options.actor === undefined ? {} : { actor: options.actor }),
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    ...(options.caFile === undefined ? {} : { caFile: options.caFile }),
  });
  const tracking = createClient(TrackingService, transport);
  const registry = createClient(RegistryService, transport);
  const flushIntervalMs = options.flushIntervalMs ?? 1000;
  const maxBufferedEntries = options.maxBufferedEntries ?? 10 * maxBatchMetrics;
  if (!(flushIntervalMs >= 0)) throw commonErrors.invalidArgument("flushIntervalMs", "must be >= 0");
  if (!(maxBufferedEntries >= maxBatchMetrics)) {
    throw commonErrors.invalidArgument("maxBufferedEntries", `must be at least ${maxBatchMetrics}`);
  }
  const retryPolicy = options.retryPolicy ?? defaultRetryPolicy;

  const startRun = async (run: StartRunOptions = {}): Promise<RunHandle> => {
    const experimentId =
      run.experiment === undefined ? "" : (await getOrCreateExperiment(tracking, run.experiment)).experimentId;
    const response = await tracking.createRun({
      experimentId,
      runName: run.runName ?? "",
      startTime: BigInt(Date.now()),
      tags: Object.entries(run.tags ?? {}).map(([key, value]) => ({ key, value })),
    });
    const info = response.run?.info;
    if (info === undefined) throw commonErrors.internal(new Error("the server answered CreateRun without a run"));
    return createRunHandle({ tracking, info, flushIntervalMs, maxBufferedEntries, retryPolicy });
  };

  return {
    tracking,
    registry,
    getOrCreateExperiment: (name) => getOrCreateExperiment(tracking, name),
    startRun,
    withRun: async (runOptions, body) => {
      const run = await startRun(runOptions);
      let result: Awaited<ReturnType<typeof body>>;
      try {
        result = await body(run);
      } catch (err) {
        try {
          await run.end("FAILED");
        } catch (endErr) {
          // The body's error is the one to report; the failed end travels with it.
          throw new AggregateError([err, endErr], "the run failed, and ending it failed too", { cause: err });
        }
        throw err;
      }
      await run.end("FINISHED");
      return result;
    },
    registerModel: (name, source, registerOptions) => registerModelVersion(registry, name, source, registerOptions),
    setStage: (name, version, stage, stageOptions) => transitionStage(registry, name, version, stage, stageOptions),
    setAlias: (name, alias, version) => pointAlias(registry, name, alias, version),
    downloadArtifact: (runId, artifactPath, localFile, downloadOptions) =>
      downloadArtifactFile(tracking, runId, artifactPath, localFile, downloadOptions),
    downloadArtifacts: (runId, artifactDir, localDir, downloadOptions) =>
      downloadArtifactDir(tracking, runId, artifactDir, localDir, downloadOptions),
  };
}
