import type {
  Experiment,
  FileInfo,
  Metric,
  Param,
  Run,
  RunInfo,
  RunStatus,
  Tag,
  ViewType,
} from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import type { Page } from "../storage/query/keyset-search.js";
import type { RunArtifactLookup } from "./run-artifact-lookup.js";

/**
 * Persistence of the tracking service, one interface per aggregate (experiments, runs, what is
 * logged to runs, the artifact index) and their union for the service. Implemented once over SQL
 * (createSqlTrackingStore) for both drivers. Inputs are already validated by the service
 * (core/validation); the store enforces what only the database can: existence, uniqueness,
 * immutability of params, idempotency of batches, atomicity. Missing things throw the catalogued
 * NOT_FOUND errors.
 */
export interface TrackingStore extends ExperimentStore, RunStore, RunLogStore, ArtifactIndex {
  /** Closes the SQL client the store was given. Closing twice is harmless. */
  close(): Promise<void>;
}

/** Experiments and their tags. */
export interface ExperimentStore {
  /** Creates the "Default" experiment (id "0") when it does not exist. Idempotent. */
  ensureDefaultExperiment(): Promise<void>;
  /**
   * TRACKING_EXPERIMENT_ALREADY_EXISTS when an active experiment has the name; INVALID_ARGUMENT
   * (artifact_location) when a given location contains, or lies inside, another experiment's.
   */
  createExperiment(input: CreateExperimentInput): Promise<Experiment>;
  getExperiment(experimentId: string): Promise<Experiment>;
  /** The active experiment with this name, else the most recently deleted one. */
  getExperimentByName(name: string): Promise<Experiment>;
  searchExperiments(query: SearchExperimentsQuery): Promise<Page<Experiment>>;
  renameExperiment(experimentId: string, newName: string): Promise<Experiment>;
  setExperimentTag(experimentId: string, key: string, value: string): Promise<void>;
  deleteExperimentTag(experimentId: string, key: string): Promise<void>;
  /** Soft-deletes the experiment and its active runs; deleting a deleted experiment changes nothing. */
  deleteExperiment(experimentId: string): Promise<void>;
  /** Restores the experiment and the runs deleted with it. */
  restoreExperiment(experimentId: string): Promise<void>;
  /**
   * The artifact URIs of every run of the experiment, deleted ones included: what a purge
   * removes from the artifact store (and nothing else under the experiment's location).
   */
  runArtifactUris(experimentId: string): Promise<string[]>;
  /** Removes a deleted experiment and everything under it; returns its artifact location. */
  purgeExperiment(experimentId: string): Promise<{ artifactLocation: string }>;
}

/** Runs: their info, lifecycle and tags, and run search. */
export interface RunStore {
  createRun(input: CreateRunInput): Promise<Run>;
  /** The run with its params, latest metrics and tags. */
  getRun(runId: string): Promise<Run>;
  updateRun(runId: string, update: UpdateRunInput): Promise<RunInfo>;
  /** Soft-deletes the run; deleting a deleted run changes nothing. */
  deleteRun(runId: string): Promise<void>;
  restoreRun(runId: string): Promise<void>;
  deleteRunTag(runId: string, key: string): Promise<void>;
  searchRuns(query: SearchRunsQuery): Promise<Page<Run>>;
}

/** What is logged to runs: metrics, params and tags in batches, and metric history. */
export interface RunLogStore {
  /**
   * Stores metrics, params and tags of an active run in one transaction. With a batchId already
   * stored for the run, stores nothing and returns duplicate: true.
   */
  logBatch(runId: string, batch: LogBatchInput): Promise<{ duplicate: boolean }>;
  getMetricHistory(query: MetricHistoryQuery): Promise<Page<Metric>>;
}

/** The index of the artifact files uploaded to runs (the bytes live in the blob store). */
export interface ArtifactIndex extends RunArtifactLookup {
  /** Records (or replaces) an uploaded artifact file in the index. */
  recordArtifact(runId: string, file: { path: string; size: number; sha256: string }): Promise<void>;
  /** The indexed file at `path`, or undefined. */
  getArtifact(runId: string, path: string): Promise<FileInfo | undefined>;
  /** Files and sub-directories directly under `dir` ("" for the root), sorted by path. */
  listArtifacts(runId: string, dir: string): Promise<FileInfo[]>;
}

export interface CreateExperimentInput {
  readonly name: string;
  /** Override of the artifact location; undefined uses `<artifact root>/<experiment id>`. */
  readonly artifactLocation: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
}

export interface SearchExperimentsQuery {
  readonly filter: string;
  readonly maxResults: number;
  readonly orderBy: readonly string[];
  readonly pageToken: string;
  readonly viewType: ViewType;
}

export interface CreateRunInput {
  readonly experimentId: string;
  readonly runName: string;
  /** Milliseconds since the epoch. */
  readonly startTime: number;
  readonly tags: readonly Tag[];
}

export interface UpdateRunInput {
  readonly status: RunStatus | undefined;
  readonly endTime: number | undefined;
  readonly runName: string | undefined;
}

export interface LogBatchInput {
  readonly metrics: readonly Metric[];
  readonly params: readonly Param[];
  readonly tags: readonly Tag[];
  /** Client-generated idempotency key; "" for none. */
  readonly batchId: string;
}

export interface MetricHistoryQuery {
  readonly runId: string;
  readonly key: string;
  readonly maxResults: number;
  readonly pageToken: string;
}

export interface SearchRunsQuery {
  readonly experimentIds: readonly string[];
  readonly filter: string;
  readonly viewType: ViewType;
  readonly maxResults: number;
  readonly orderBy: readonly string[];
  readonly pageToken: string;
  /** The call's signal: when the client goes away, the running search statement is canceled. */
  readonly signal?: AbortSignal;
}
