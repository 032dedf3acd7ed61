import type {
  ModelSignature,
  ModelState,
  ModelVersion,
  ModelVersionStatus,
  RegisteredModel,
  RegistryEvent,
  Stage,
} from "../gen/mlpipe/registry/v1/registry_pb.js";
import type { Page } from "../storage/query/keyset-search.js";

/**
 * Persistence of the model registry, one interface per aggregate (models, versions, stages and
 * aliases, the audit log and watch) and their union for the service. Implemented once over SQL
 * (createSqlRegistryStore) for PGlite and PostgreSQL. Inputs are already validated by the service
 * (core/validation); the store enforces what only the database can: existence, uniqueness,
 * version numbering, atomic stage transitions, and an audit event (with its NOTIFY) in the same
 * transaction as every change: each mutation takes the actor it records. Each mutation of a model
 * locks the model's row first, so a model's changes, version numbers and events are serialized
 * across every replica sharing the database.
 *
 * Missing things throw the catalogued NOT_FOUND errors (REGISTRY_MODEL_NOT_FOUND, ...).
 */
export interface RegistryStore extends ModelStore, VersionStore, StageStore, RegistryEventStore {}

/** Registered models and their tags. */
export interface ModelStore {
  /**
   * Creates a model and records MODEL_CREATED. REGISTRY_MODEL_ALREADY_EXISTS when the name is taken;
   * REGISTRY_ROUTE_ALIAS_MISSING for a split or shadow tag (the new model has no aliases).
   */
  createModel(input: CreateModelInput, actor: string): Promise<RegisteredModel>;
  getModel(name: string): Promise<RegisteredModel>;
  searchModels(query: SearchQuery): Promise<Page<RegisteredModel>>;
  /** Renames and records MODEL_RENAMED; REGISTRY_MODEL_ALREADY_EXISTS (field new_name) when taken. */
  renameModel(name: string, newName: string, actor: string): Promise<RegisteredModel>;
  /** Replaces the description, recording MODEL_UPDATED (nothing when unchanged). */
  updateModelDescription(name: string, description: string, actor: string): Promise<RegisteredModel>;
  /**
   * Deletes the model with its versions, tags and aliases, and records MODEL_DELETED. Returns the
   * blob keys of the versions' stored artifacts, for the caller to remove after the commit.
   */
  deleteModel(name: string, actor: string): Promise<{ storageKeys: string[] }>;
  /**
   * Sets a tag, recording MODEL_TAG_SET. A traffic split or shadow routes tag naming an alias the
   * model does not have is REGISTRY_ROUTE_ALIAS_MISSING (registry/sql-route-aliases.ts).
   */
  setModelTag(name: string, key: string, value: string, actor: string): Promise<void>;
  /** Deletes a tag, recording MODEL_TAG_DELETED; REGISTRY_TAG_NOT_FOUND when it is not set. */
  deleteModelTag(name: string, key: string, actor: string): Promise<void>;
}

/** Model versions and their tags. */
export interface VersionStore {
  /**
   * Creates the next version of the model (numbers are never reused) in stage None and records
   * VERSION_CREATED. REGISTRY_MODEL_NOT_FOUND when the model is gone.
   */
  createVersion(input: CreateVersionInput, actor: string): Promise<ModelVersion>;
  getVersion(name: string, version: bigint): Promise<ModelVersion>;
  /** The version with where its artifact is stored (download). */
  getVersionArtifact(name: string, version: bigint): Promise<VersionArtifact>;
  searchVersions(query: SearchQuery): Promise<Page<ModelVersion>>;
  /** Replaces the description, recording VERSION_UPDATED (nothing when unchanged). */
  updateVersionDescription(name: string, version: bigint, description: string, actor: string): Promise<ModelVersion>;
  /**
   * Deletes the version with its tags and the aliases pointing at it, recording ALIAS_DELETED for
   * each and VERSION_DELETED. Returns the blob key of its artifact ("" when none), for the caller.
   * REGISTRY_ALIAS_IN_USE when one of those aliases is in the model's traffic split or shadow.
   */
  deleteVersion(name: string, version: bigint, actor: string): Promise<{ storageKey: string }>;
  /** Sets a tag, recording VERSION_TAG_SET. */
  setVersionTag(name: string, version: bigint, key: string, value: string, actor: string): Promise<void>;
  /** Deletes a tag, recording VERSION_TAG_DELETED; REGISTRY_TAG_NOT_FOUND when it is not set. */
  deleteVersionTag(name: string, version: bigint, key: string, actor: string): Promise<void>;
}

/** Where versions stand: stages and aliases. */
export interface StageStore {
  /**
   * Moves a READY version to `stage` (REGISTRY_VERSION_NOT_READY otherwise), with
   * `archiveExisting` moving the other versions in a Staging or Production target to Archived,
   * all in one transaction holding the model's row lock. Records STAGE_CHANGED for each version
   * that moved; moving to the current stage changes and records nothing.
   */
  transitionStage(
    name: string,
    version: bigint,
    stage: Stage,
    archiveExisting: boolean,
    actor: string,
  ): Promise<ModelVersion>;
  /** The highest-numbered version in each of `stages` that has one, in the order of `stages`. */
  getLatestVersions(name: string, stages: readonly Stage[]): Promise<ModelVersion[]>;
  /** Points `alias` at a READY version, recording ALIAS_SET (nothing when it already points there). */
  setAlias(name: string, alias: string, version: bigint, actor: string): Promise<void>;
  /**
   * Deletes an alias and records ALIAS_DELETED; REGISTRY_ALIAS_NOT_FOUND when there is none,
   * REGISTRY_ALIAS_IN_USE when the model's traffic split or shadow routes still name it.
   */
  deleteAlias(name: string, alias: string, actor: string): Promise<void>;
  getVersionByAlias(name: string, alias: string): Promise<ModelVersion>;
}

/** The audit log, read as history pages and by watch streams. */
export interface RegistryEventStore {
  /** The model's audit history, oldest first. */
  listEvents(name: string, maxResults: number, pageToken: string): Promise<Page<RegistryEvent>>;
  /**
   * The model's current state and the sequence of its last event, read consistently (under a
   * share lock of the model's row, so no change of the model commits in between).
   */
  getModelState(name: string): Promise<{ modelId: string; state: ModelState }>;
  /**
   * The model a watch resumes on: the model of the event at `afterSequence` when that event exists
   * (so a watcher follows a renamed or deleted model), else the model named `name`. A position
   * beyond the end of the log is INVALID_ARGUMENT (field after_sequence).
   */
  resolveWatchedModel(name: string, afterSequence: bigint): Promise<string>;
  /** Up to `limit` events of a model with sequence > `afterSequence`, in sequence order. */
  eventsAfter(modelId: string, afterSequence: bigint, limit: number): Promise<RegistryEvent[]>;
  /** The last event sequence of each of these models that has events (the watch hub's poll). */
  latestSequences(modelIds: readonly string[]): Promise<Map<string, bigint>>;
}

/** A search: filter text, page size (validated), order_by clauses, page token. */
export interface SearchQuery {
  readonly filter: string;
  readonly maxResults: number;
  readonly orderBy: readonly string[];
  readonly pageToken: string;
}

export interface CreateModelInput {
  readonly name: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** A version to create: what registration found out about the artifact. */
export interface CreateVersionInput {
  readonly name: string;
  readonly source: string;
  /** The source run ("" when the source is not a run). */
  readonly runId: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly status: ModelVersionStatus;
  readonly statusMessage: string;
  /** Bytes (READY only, else 0). */
  readonly artifactSize: number;
  readonly artifactSha256: string;
  /** Blob key and URI of the registry's copy ("" unless READY). */
  readonly storageKey: string;
  readonly storageUri: string;
  readonly signature: ModelSignature | undefined;
}

/** A version and the blob key of its artifact. */
export interface VersionArtifact {
  readonly version: ModelVersion;
  /** "" when registration failed. */
  readonly storageKey: string;
}
