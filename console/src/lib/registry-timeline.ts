/**
 * A registered model's audit history read as a timeline: what each event means in words, and what
 * the model looked like at any moment ("what was in Production last Tuesday"), replayed from the
 * events up to that moment. The same replay keeps the live view of a Watch stream current.
 */
import {
  type ModelState,
  type RegistryEvent,
  RegistryEventType,
  Stage,
} from "../../../gen/mlpipe/registry/v1/registry_pb.js";
import { stageName } from "./registry-format.js";

/** The stage of each version and the aliases of a model at one moment. */
export interface ModelSnapshot {
  /** The model's name at that moment (renames are followed). */
  readonly name: string;
  /** Version -> its stage. */
  readonly versions: ReadonlyMap<bigint, Stage>;
  /** Alias -> version. */
  readonly aliases: ReadonlyMap<string, bigint>;
  /** False before the model's creation and after its deletion. */
  readonly exists: boolean;
}

/** A model with no history. */
export const emptySnapshot: ModelSnapshot = { name: "", versions: new Map(), aliases: new Map(), exists: false };

/** The snapshot a Watch stream starts from (its first message). */
export function snapshotFromState(state: ModelState): ModelSnapshot {
  const versions = new Map<bigint, Stage>();
  for (const s of state.stages) for (const v of s.versions) versions.set(v, s.stage);
  return { name: state.name, versions, aliases: new Map(Object.entries(state.aliases)), exists: true };
}

/** `snapshot` after `e`. */
export function applyEvent(snapshot: ModelSnapshot, e: RegistryEvent): ModelSnapshot {
  const versions = new Map(snapshot.versions);
  const aliases = new Map(snapshot.aliases);
  let { name, exists } = snapshot;
  switch (e.type) {
    case RegistryEventType.MODEL_CREATED:
      exists = true;
      name = e.modelName;
      break;
    case RegistryEventType.MODEL_RENAMED:
      name = e.toName;
      break;
    case RegistryEventType.MODEL_DELETED:
      exists = false;
      versions.clear();
      aliases.clear();
      break;
    case RegistryEventType.VERSION_CREATED:
      versions.set(e.version, Stage.NONE);
      break;
    case RegistryEventType.VERSION_DELETED:
      versions.delete(e.version);
      for (const [alias, v] of aliases) if (v === e.version) aliases.delete(alias);
      break;
    case RegistryEventType.STAGE_CHANGED:
      versions.set(e.version, e.toStage);
      break;
    case RegistryEventType.ALIAS_SET:
      aliases.set(e.alias, e.toVersion);
      break;
    case RegistryEventType.ALIAS_DELETED:
      aliases.delete(e.alias);
      break;
    default:
      return snapshot;
  }
  return { name, versions, aliases, exists };
}

/**
 * Replays `events` (oldest first, as ListRegistryEvents returns them) up to and including
 * `timeMs`. mlpipe records every change from a model's creation, so the replay is complete.
 */
export function snapshotAt(events: readonly RegistryEvent[], timeMs: bigint): ModelSnapshot {
  let snapshot: ModelSnapshot = { ...emptySnapshot, name: events[0]?.modelName ?? "" };
  for (const e of events) {
    if (e.time > timeMs) break;
    snapshot = applyEvent(snapshot, e);
  }
  return snapshot;
}

/** Stage -> its versions, ascending; stages without versions are absent. */
export function versionsByStage(snapshot: ModelSnapshot): Map<Stage, bigint[]> {
  const stages = new Map<Stage, bigint[]>();
  for (const [version, stage] of [...snapshot.versions].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    stages.set(stage, [...(stages.get(stage) ?? []), version]);
  }
  return stages;
}

/** One line for an event, e.g. "version 2: Staging → Production". */
export function describeEvent(e: RegistryEvent): string {
  switch (e.type) {
    case RegistryEventType.MODEL_CREATED:
      return `model ${e.modelName} created`;
    case RegistryEventType.MODEL_RENAMED:
      return `renamed ${e.fromName} → ${e.toName}`;
    case RegistryEventType.MODEL_DELETED:
      return `model ${e.modelName} deleted`;
    case RegistryEventType.VERSION_CREATED:
      return `version ${e.version} registered`;
    case RegistryEventType.VERSION_DELETED:
      return `version ${e.version} deleted (was in ${stageName(e.fromStage)})`;
    case RegistryEventType.STAGE_CHANGED:
      return `version ${e.version}: ${stageName(e.fromStage)} → ${stageName(e.toStage)}`;
    case RegistryEventType.ALIAS_SET:
      return e.fromVersion === 0n
        ? `alias @${e.alias} → version ${e.toVersion}`
        : `alias @${e.alias} moved from version ${e.fromVersion} to ${e.toVersion}`;
    case RegistryEventType.ALIAS_DELETED:
      return `alias @${e.alias} deleted (was version ${e.fromVersion})`;
    case RegistryEventType.MODEL_UPDATED:
      return "model description changed";
    case RegistryEventType.MODEL_TAG_SET:
      return `model tag ${e.key} = ${e.toValue}`;
    case RegistryEventType.MODEL_TAG_DELETED:
      return `model tag ${e.key} deleted`;
    case RegistryEventType.VERSION_UPDATED:
      return `version ${e.version} description changed`;
    case RegistryEventType.VERSION_TAG_SET:
      return `version ${e.version} tag ${e.key} = ${e.toValue}`;
    case RegistryEventType.VERSION_TAG_DELETED:
      return `version ${e.version} tag ${e.key} deleted`;
    default:
      return "unknown change";
  }
}
