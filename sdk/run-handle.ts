import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { commonErrors } from "../core/errors/common-errors.js";
import {
  type FileInfo,
  MetricSchema,
  ParamSchema,
  type RunInfo,
  RunStatus,
  TagSchema,
  type TrackingService,
} from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { type DownloadOptions, downloadArtifactDir } from "./artifact-download.js";
import { uploadArtifactDir, uploadArtifactFile } from "./artifact-upload.js";
import { createLogBatcher } from "./log-batcher.js";
import { type RetryPolicy, withRetries } from "./retry-policy.js";

/** How a run ends: FINISHED (success), FAILED (an error) or KILLED (stopped from outside). */
export type RunEndStatus = "FINISHED" | "FAILED" | "KILLED";

/** A param value; numbers and booleans are logged as their string form ("0.1", "true"). */
export type ParamValue = string | number | boolean;

/**
 * A live run: logs params, metrics and tags (buffered, sent in the background in LogBatch calls
 * with a client-generated batch_id, so a retried batch is never stored twice), uploads artifacts,
 * and ends the run. Every method rejects with the server's error (a ConnectError carrying its
 * code and message) when a call fails; a batch that failed for good fails every later call too.
 */
export interface RunHandle {
  /** The run's id. */
  readonly runId: string;
  /** The experiment the run belongs to. */
  readonly experimentId: string;
  /** The run as created (status RUNNING). */
  readonly info: RunInfo;
  /** Logs a param (immutable: logging another value for the key fails with INVALID_ARGUMENT). */
  logParam(key: string, value: ParamValue): Promise<void>;
  /** Logs several params. */
  logParams(params: Readonly<Record<string, ParamValue>>): Promise<void>;
  /**
   * Logs a metric point at the current time. `step` is an integer (default 0), e.g. the epoch.
   * Resolves once buffered; waits only when the buffer is over its limit.
   */
  logMetric(key: string, value: number, step?: number): Promise<void>;
  /** Logs several metrics at one step. */
  logMetrics(metrics: Readonly<Record<string, number>>, step?: number): Promise<void>;
  /** Sets (or replaces) a tag. */
  setTag(key: string, value: string): Promise<void>;
  /**
   * Uploads a local file to `artifactPath`, the file's path among the run's artifacts
   * (`/`-separated; default: the file's name), streamed with its SHA-256 checked by the server.
   */
  logArtifact(localFile: string, artifactPath?: string): Promise<FileInfo>;
  /** Uploads every file under a local directory, keeping relative paths, under `artifactDir` when given. */
  logArtifacts(localDir: string, artifactDir?: string): Promise<FileInfo[]>;
  /**
   * Downloads every file under the run's artifact directory `artifactDir` ("" for all) into
   * `localDir`, keeping relative paths, each SHA-256 checked: what {@link logArtifacts} uploaded
   * comes back as it was. Works after the run ended too.
   */
  downloadArtifacts(artifactDir: string, localDir: string, options?: DownloadOptions): Promise<FileInfo[]>;
  /** The model-registry source of one of the run's artifacts: `runs:/<run_id>/<artifactPath>`. */
  artifactSource(artifactPath: string): string;
  /** Sends everything buffered; resolves once the server stored it. */
  flush(): Promise<void>;
  /**
   * Flushes and marks the run ended with `status` (default FINISHED). When the flush fails, the
   * run is marked FAILED and the flush error is thrown. Later log calls reject. Call once.
   */
  end(status?: RunEndStatus): Promise<RunInfo>;
}

/** Options of {@link createRunHandle}. */
export interface RunHandleOptions {
  readonly tracking: Client<typeof TrackingService>;
  /** The created run. */
  readonly info: RunInfo;
  /** Longest a logged entry waits before it is sent, in milliseconds. */
  readonly flushIntervalMs: number;
  /** Buffered entries above which logging waits for the buffer to drain. */
  readonly maxBufferedEntries: number;
  /** How failed LogBatch calls are retried (safe: each batch keeps its batch_id). */
  readonly retryPolicy: RetryPolicy;
}

const endStatuses: Readonly<Record<RunEndStatus, RunStatus>> = {
  FINISHED: RunStatus.FINISHED,
  FAILED: RunStatus.FAILED,
  KILLED: RunStatus.KILLED,
};

/** Wraps a created run in a {@link RunHandle}. */
export function createRunHandle(options: RunHandleOptions): RunHandle {
  const { tracking, info, retryPolicy } = options;
  const runId = info.runId;
  let ended = false;

  const batcher = createLogBatcher({
    flushIntervalMs: options.flushIntervalMs,
    maxBufferedEntries: options.maxBufferedEntries,
    closedError: (what) => commonErrors.invalidArgument(what, `run ${runId} has ended; start a new run to log more`),
    send: async (batch) => {
      // One id per batch, kept across retries: a retry of a batch the server already stored is
      // acknowledged as a duplicate instead of storing it twice.
      const batchId = randomUUID();
      await withRetries(retryPolicy, () => tracking.logBatch({ runId, batchId, ...batch }));
    },
  });

  const logParam = (key: string, value: ParamValue) =>
    batcher.addParam(create(ParamSchema, { key, value: String(value) }));

  const logMetric = (key: string, value: number, step = 0) => {
    if (!Number.isSafeInteger(step)) {
      return Promise.reject(commonErrors.invalidArgument("step", `must be an integer, got ${step}`));
    }
    return batcher.addMetric(create(MetricSchema, { key, value, step: BigInt(step), timestamp: BigInt(Date.now()) }));
  };

  const ensureLive = () => {
    if (ended) throw commonErrors.invalidArgument("run", `run ${runId} has ended; start a new run`);
  };

  return {
    runId,
    experimentId: info.experimentId,
    info,
    logParam,
    logParams: async (params) => {
      for (const [key, value] of Object.entries(params)) await logParam(key, value);
    },
    logMetric,
    logMetrics: async (metrics, step) => {
      for (const [key, value] of Object.entries(metrics)) await logMetric(key, value, step);
    },
    setTag: (key, value) => batcher.addTag(create(TagSchema, { key, value })),
    logArtifact: async (localFile, artifactPath) => {
      ensureLive();
      return uploadArtifactFile(tracking, runId, localFile, artifactPath);
    },
    logArtifacts: async (localDir, artifactDir) => {
      ensureLive();
      return uploadArtifactDir(tracking, runId, localDir, artifactDir);
    },
    downloadArtifacts: (artifactDir, localDir, options) =>
      downloadArtifactDir(tracking, runId, artifactDir, localDir, options),
    artifactSource: (artifactPath) => `runs:/${runId}/${artifactPath.replace(/^\/+/, "")}`,
    flush: () => batcher.flush(),
    end: async (status = "FINISHED") => {
      ensureLive();
      ended = true;
      let flushError: { readonly error: unknown } | undefined;
      try {
        await batcher.close();
      } catch (error) {
        flushError = { error };
      }
      const update = tracking.updateRun({
        runId,
        status: endStatuses[flushError === undefined ? status : "FAILED"],
        endTime: BigInt(Date.now()),
      });
      if (flushError !== undefined) {
        // The lost batch is what the caller must hear about; marking the run FAILED is best effort.
        await update.catch(() => undefined);
        throw flushError.error;
      }
      const response = await update;
      if (response.runInfo === undefined) {
        throw commonErrors.internal(new Error("the server answered UpdateRun without run info"));
      }
      return response.runInfo;
    },
  };
}
