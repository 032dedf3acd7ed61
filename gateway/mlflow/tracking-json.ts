/**
 * Tracking entities in MLflow's JSON (mlflow/protos/service.proto through protobuf's JSON mapping
 * with the proto field names, as MLflow's `message_to_json` writes them): snake_case fields,
 * enums by name (`"RUNNING"`, `"active"` for lifecycle stages), tags and params as
 * `[{"key", "value"}]` lists, int64 as JSON numbers, empty lists and unset fields left out.
 * Artifact locations are shown through {@link ArtifactLocations} (`mlflow-artifacts:/...`).
 */
import {
  type Experiment,
  type FileInfo,
  LifecycleStage,
  type Metric,
  type Run,
  type RunInfo,
  RunStatus,
  ViewType,
} from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import type { ArtifactLocations } from "./artifact-locations.js";

/** A JSON object of the MLflow surface. */
export type JsonObject = Record<string, unknown>;

/** An int64 as MLflow writes it: a JSON number (a decimal string beyond 2^53, which JSON numbers cannot hold exactly). */
export function int64Json(value: bigint): number | string {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}

/** A double as protobuf's JSON mapping writes it: a number, or "NaN", "Infinity", "-Infinity". */
export function doubleJson(value: number): number | string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "Infinity";
  if (value === Number.NEGATIVE_INFINITY) return "-Infinity";
  return value;
}

/** `{key: value}` as MLflow's `[{"key", "value"}]`, sorted by key for stable answers. */
export function keyValues(map: Readonly<Record<string, string>>): { key: string; value: string }[] {
  return Object.keys(map)
    .sort()
    .map((key) => ({ key, value: map[key] ?? "" }));
}

/** `object` without its empty lists and undefined fields, as protobuf's JSON mapping leaves them out. */
export function compact(object: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(object)) {
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    out[key] = value;
  }
  return out;
}

/** MLflow's names of the lifecycle stages. */
export function lifecycleJson(stage: LifecycleStage): string {
  return stage === LifecycleStage.DELETED ? "deleted" : "active";
}

const runStatusNames: Readonly<Record<RunStatus, string | undefined>> = {
  [RunStatus.UNSPECIFIED]: undefined,
  [RunStatus.RUNNING]: "RUNNING",
  [RunStatus.SCHEDULED]: "SCHEDULED",
  [RunStatus.FINISHED]: "FINISHED",
  [RunStatus.FAILED]: "FAILED",
  [RunStatus.KILLED]: "KILLED",
};

/** Run statuses by MLflow's name (the request side). */
export const runStatusByName: Readonly<Record<string, RunStatus>> = {
  RUNNING: RunStatus.RUNNING,
  SCHEDULED: RunStatus.SCHEDULED,
  FINISHED: RunStatus.FINISHED,
  FAILED: RunStatus.FAILED,
  KILLED: RunStatus.KILLED,
};

/** Run statuses by MLflow's enum number (service.proto's, the same as mlpipe's). */
export const runStatusByNumber: Readonly<Record<number, RunStatus>> = {
  1: RunStatus.RUNNING,
  2: RunStatus.SCHEDULED,
  3: RunStatus.FINISHED,
  4: RunStatus.FAILED,
  5: RunStatus.KILLED,
};

/** View types by MLflow's name (`ACTIVE_ONLY`, `DELETED_ONLY`, `ALL`). */
export const viewTypeByName: Readonly<Record<string, ViewType>> = {
  ACTIVE_ONLY: ViewType.ACTIVE_ONLY,
  DELETED_ONLY: ViewType.DELETED_ONLY,
  ALL: ViewType.ALL,
};

/** View types by MLflow's enum number (1, 2, 3: the same as mlpipe's). */
export const viewTypeByNumber: Readonly<Record<number, ViewType>> = {
  1: ViewType.ACTIVE_ONLY,
  2: ViewType.DELETED_ONLY,
  3: ViewType.ALL,
};

/** The tag MLflow clients put the user in; `user_id` in MLflow's answers mirrors it. */
export const userTag = "mlflow.user";

/** An experiment as MLflow's `Experiment`. */
export function experimentJson(e: Experiment, locations: ArtifactLocations): JsonObject {
  return compact({
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: locations.shown(e.artifactLocation),
    lifecycle_stage: lifecycleJson(e.lifecycleStage),
    last_update_time: int64Json(e.lastUpdateTime),
    creation_time: int64Json(e.creationTime),
    tags: keyValues(e.tags),
  });
}

/** A run's info as MLflow's `RunInfo` (with the deprecated `run_uuid` that older clients read). */
export function runInfoJson(info: RunInfo, locations: ArtifactLocations, userId = ""): JsonObject {
  return compact({
    run_id: info.runId,
    run_uuid: info.runId,
    run_name: info.runName,
    experiment_id: info.experimentId,
    user_id: userId,
    status: runStatusNames[info.status],
    start_time: int64Json(info.startTime),
    end_time: info.endTime === undefined ? undefined : int64Json(info.endTime),
    artifact_uri: locations.shown(info.artifactUri),
    lifecycle_stage: lifecycleJson(info.lifecycleStage),
  });
}

/** A metric point as MLflow's `Metric`. */
export function metricJson(m: Metric): JsonObject {
  return { key: m.key, value: doubleJson(m.value), timestamp: int64Json(m.timestamp), step: int64Json(m.step) };
}

/**
 * The run tag that keeps the dataset inputs `runs/log-inputs` logged (mlpipe's runs have no
 * dataset entity): a JSON list of MLflow `DatasetInput`s, shown as the run's `inputs`, not as a tag.
 */
export const datasetInputsTag = "mlpipe.mlflow.dataset-inputs";

/** The dataset inputs kept in a run's {@link datasetInputsTag}; a tag that is not a JSON list holds none. */
export function datasetInputs(tag: string | undefined): JsonObject[] {
  if (tag === undefined) return [];
  try {
    const parsed: unknown = JSON.parse(tag);
    return Array.isArray(parsed) ? parsed.filter((d): d is JsonObject => typeof d === "object" && d !== null) : [];
  } catch {
    return [];
  }
}

/** A run as MLflow's `Run`: info, data (latest metrics, params, tags) and inputs (its datasets). */
export function runJson(run: Run, locations: ArtifactLocations): JsonObject {
  const { [datasetInputsTag]: inputs, ...tags } = run.data?.tags ?? {};
  return {
    info: run.info === undefined ? {} : runInfoJson(run.info, locations, tags[userTag] ?? ""),
    data: compact({
      metrics: (run.data?.metrics ?? []).map(metricJson),
      params: keyValues(run.data?.params ?? {}),
      tags: keyValues(tags),
    }),
    inputs: compact({ dataset_inputs: datasetInputs(inputs) }),
  };
}

/** A file or directory of a run's artifacts as MLflow's `FileInfo` (`file_size` for files only). */
export function fileInfoJson(file: FileInfo, path = file.path): JsonObject {
  return compact({
    path,
    is_dir: file.isDir,
    file_size: file.isDir ? undefined : int64Json(file.fileSize),
  });
}
