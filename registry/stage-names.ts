/**
 * The stage and status names stored in SQL ("Production", "READY"), which are MLflow's spellings,
 * and their protobuf enums. One table each way, so a new value cannot be half-mapped.
 */
import { ModelVersionStatus, RegistryEventType, Stage } from "../gen/mlpipe/registry/v1/registry_pb.js";

/** A stage as stored in `model_versions.current_stage`. */
export type StageName = "None" | "Staging" | "Production" | "Archived";

const stagePairs: ReadonlyArray<readonly [Stage, StageName]> = [
  [Stage.NONE, "None"],
  [Stage.STAGING, "Staging"],
  [Stage.PRODUCTION, "Production"],
  [Stage.ARCHIVED, "Archived"],
];

/** Every stored stage name, in their enum order. */
export const stageNames: readonly StageName[] = stagePairs.map(([, n]) => n);

/** The stored name of a (validated) stage. */
export function stageName(stage: Stage): StageName {
  const found = stagePairs.find(([s]) => s === stage);
  if (found === undefined) throw new Error(`stage ${stage} has no name`);
  return found[1];
}

/** The enum of a stored stage name; UNSPECIFIED for "" (events without a stage). */
export function stageFromName(name: string): Stage {
  return stagePairs.find(([, n]) => n === name)?.[0] ?? Stage.UNSPECIFIED;
}

/** Every stage, in their enum order. */
export const allStages: readonly Stage[] = stagePairs.map(([s]) => s);

/** A version status as stored in `model_versions.status`. */
export type StatusName = "PENDING_REGISTRATION" | "FAILED_REGISTRATION" | "READY";

const statusNames: ReadonlyArray<readonly [ModelVersionStatus, StatusName]> = [
  [ModelVersionStatus.PENDING_REGISTRATION, "PENDING_REGISTRATION"],
  [ModelVersionStatus.FAILED_REGISTRATION, "FAILED_REGISTRATION"],
  [ModelVersionStatus.READY, "READY"],
];

/** The enum of a stored status. */
export function statusFromName(name: string): ModelVersionStatus {
  return statusNames.find(([, n]) => n === name)?.[0] ?? ModelVersionStatus.UNSPECIFIED;
}

/** The stored name of a status. */
export function statusName(status: ModelVersionStatus): StatusName {
  const found = statusNames.find(([s]) => s === status);
  if (found === undefined) throw new Error(`status ${status} has no name`);
  return found[1];
}

/** An event type as stored in `registry_events.type`. */
export type EventTypeName =
  | "MODEL_CREATED"
  | "MODEL_RENAMED"
  | "MODEL_DELETED"
  | "VERSION_CREATED"
  | "VERSION_DELETED"
  | "STAGE_CHANGED"
  | "ALIAS_SET"
  | "ALIAS_DELETED"
  | "MODEL_UPDATED"
  | "MODEL_TAG_SET"
  | "MODEL_TAG_DELETED"
  | "VERSION_UPDATED"
  | "VERSION_TAG_SET"
  | "VERSION_TAG_DELETED";

const eventTypeNames: ReadonlyArray<readonly [RegistryEventType, EventTypeName]> = [
  [RegistryEventType.MODEL_CREATED, "MODEL_CREATED"],
  [RegistryEventType.MODEL_RENAMED, "MODEL_RENAMED"],
  [RegistryEventType.MODEL_DELETED, "MODEL_DELETED"],
  [RegistryEventType.VERSION_CREATED, "VERSION_CREATED"],
  [RegistryEventType.VERSION_DELETED, "VERSION_DELETED"],
  [RegistryEventType.STAGE_CHANGED, "STAGE_CHANGED"],
  [RegistryEventType.ALIAS_SET, "ALIAS_SET"],
  [RegistryEventType.ALIAS_DELETED, "ALIAS_DELETED"],
  [RegistryEventType.MODEL_UPDATED, "MODEL_UPDATED"],
  [RegistryEventType.MODEL_TAG_SET, "MODEL_TAG_SET"],
  [RegistryEventType.MODEL_TAG_DELETED, "MODEL_TAG_DELETED"],
  [RegistryEventType.VERSION_UPDATED, "VERSION_UPDATED"],
  [RegistryEventType.VERSION_TAG_SET, "VERSION_TAG_SET"],
  [RegistryEventType.VERSION_TAG_DELETED, "VERSION_TAG_DELETED"],
];

/** The enum of a stored event type. */
export function eventTypeFromName(name: string): RegistryEventType {
  return eventTypeNames.find(([, n]) => n === name)?.[0] ?? RegistryEventType.UNSPECIFIED;
}
