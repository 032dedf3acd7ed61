/**
 * Registry entities in MLflow's JSON (mlflow/protos/model_registry.proto through protobuf's JSON
 * mapping): versions as decimal strings, stages and statuses by MLflow's names (`"Production"`,
 * `"READY"`, the spellings registry/stage-names.ts stores), `*_timestamp` times as JSON numbers,
 * aliases as `[{"alias", "version"}]` on models and a list of names on versions.
 */
import type { ModelVersion, RegisteredModel, Stage } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { stageFromName, stageName, stageNames, statusName } from "../../registry/stage-names.js";
import type { ArtifactLocations } from "./artifact-locations.js";
import { compact, int64Json, type JsonObject, keyValues } from "./tracking-json.js";

/** A version as MLflow's `ModelVersion`. */
export function modelVersionJson(v: ModelVersion, locations: ArtifactLocations): JsonObject {
  return compact({
    name: v.name,
    version: v.version.toString(),
    creation_timestamp: int64Json(v.creationTime),
    last_updated_timestamp: int64Json(v.lastUpdatedTime),
    user_id: v.createdBy,
    current_stage: stageName(v.currentStage),
    description: v.description,
    source: locations.shown(v.source),
    run_id: v.runId,
    status: statusName(v.status),
    status_message: v.statusMessage,
    tags: keyValues(v.tags),
    aliases: v.aliases,
  });
}

/**
 * A registered model as MLflow's `RegisteredModel`, with `latest_versions` (the newest version
 * in each stage, as GetLatestVersions answers for all four).
 */
export function registeredModelJson(
  m: RegisteredModel,
  latest: readonly ModelVersion[],
  locations: ArtifactLocations,
): JsonObject {
  return compact({
    name: m.name,
    creation_timestamp: int64Json(m.creationTime),
    last_updated_timestamp: int64Json(m.lastUpdatedTime),
    description: m.description,
    latest_versions: latest.map((v) => modelVersionJson(v, locations)),
    tags: keyValues(m.tags),
    aliases: Object.keys(m.aliases)
      .sort()
      .map((alias) => ({ alias, version: (m.aliases[alias] ?? 0n).toString() })),
  });
}

/** Stages by lower-case name: MLflow accepts a stage in any case (`"production"`). */
const stagesByLowerName = new Map(stageNames.map((n) => [n.toLowerCase(), stageFromName(n)]));

/** The stage an MLflow request names (any case), or undefined for a name that is none of the four. */
export function stageOfName(name: string): Stage | undefined {
  return stagesByLowerName.get(name.toLowerCase());
}

/** The four stage names, for error messages. */
export const stageNameList = stageNames.join(", ");
