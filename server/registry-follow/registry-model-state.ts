/**
 * The inference server's view of one registered model, kept by the registry watch stream: which
 * READY versions are in each stage, where each alias points, the model's tags (its traffic split
 * is one), and the sequence of the last change seen (the resume position). Pure: the watcher feeds it messages, the follower asks it which
 * version a MODEL_STAGE (a stage name or an alias) names.
 */
import {
  type ModelState,
  type RegistryEvent,
  RegistryEventType,
  Stage,
} from "../../gen/mlpipe/registry/v1/registry_pb.js";

/** MLflow's stage names, as the registry spells them in filters and the inference server in ModelInfo. */
const stageNames: ReadonlyMap<Stage, string> = new Map([
  [Stage.NONE, "None"],
  [Stage.STAGING, "Staging"],
  [Stage.PRODUCTION, "Production"],
  [Stage.ARCHIVED, "Archived"],
]);

/** The name of a stage ("Production"), "" for an unspecified one. */
export function stageName(stage: Stage): string {
  return stageNames.get(stage) ?? "";
}

/** The stage a name denotes, case-insensitively ("production" -> PRODUCTION); undefined for any other name. */
export function stageFromName(name: string): Stage | undefined {
  const lower = name.trim().toLowerCase();
  for (const [stage, n] of stageNames) if (n.toLowerCase() === lower) return stage;
  return undefined;
}

/** The stage and aliases of one version, as the model's state says now. */
export interface VersionLabels {
  /** Stage name, e.g. "Production"; "" when the version is unknown to the state. */
  readonly stage: string;
  /** Aliases pointing at it, sorted. */
  readonly aliases: readonly string[];
}

/** A registered model's stages and aliases. */
export interface RegistryModelState {
  /** Sequence of the last change applied: the `after_sequence` to resume a watch from; 0 before any state. */
  readonly sequence: bigint;
  /**
   * How many times the model was deleted while watched: a model registered again under the name
   * numbers its versions from 1 again, so version "1" after a deletion is not the version "1" before.
   */
  readonly generation: number;
  /** Replaces everything with a watch stream's first message. */
  reset(state: ModelState): void;
  /** Applies one change; events at or before `sequence` (replayed on a resume) are ignored. */
  apply(event: RegistryEvent): void;
  /** Records a heartbeat's position. */
  advance(sequence: bigint): void;
  /**
   * The version `spec` names now: a stage name (case-insensitive; the highest-numbered READY
   * version in it, as GetLatestVersions answers) or else an alias; undefined when none.
   */
  target(spec: string): bigint | undefined;
  /** The stage and aliases of `version` now. */
  labels(version: bigint): VersionLabels;
  /** The value of the model's tag `key` now; undefined when it has none. */
  tag(key: string): string | undefined;
}

/** Creates an empty state (sequence 0: the next watch starts from the model's current state). */
export function createRegistryModelState(): RegistryModelState {
  let sequence = 0n;
  let generation = 0;
  const stageOf = new Map<bigint, Stage>();
  const aliases = new Map<string, bigint>();
  const tags = new Map<string, string>();

  return {
    get sequence() {
      return sequence;
    },
    get generation() {
      return generation;
    },
    reset(state) {
      stageOf.clear();
      aliases.clear();
      tags.clear();
      for (const [key, value] of Object.entries(state.tags)) tags.set(key, value);
      for (const s of state.stages) for (const v of s.versions) stageOf.set(v, s.stage);
      for (const [alias, version] of Object.entries(state.aliases)) aliases.set(alias, version);
      sequence = state.sequence;
    },
    apply(event) {
      if (event.sequence <= sequence) return;
      sequence = event.sequence;
      switch (event.type) {
        case RegistryEventType.VERSION_CREATED:
          // A version whose registration failed is created too; only READY ones can be staged, and
          // the follower checks the status before loading, so recording it in NONE is harmless.
          stageOf.set(event.version, Stage.NONE);
          break;
        case RegistryEventType.STAGE_CHANGED:
          stageOf.set(event.version, event.toStage);
          break;
        case RegistryEventType.VERSION_DELETED:
          stageOf.delete(event.version);
          for (const [alias, v] of aliases) if (v === event.version) aliases.delete(alias);
          break;
        case RegistryEventType.ALIAS_SET:
          aliases.set(event.alias, event.toVersion);
          break;
        case RegistryEventType.ALIAS_DELETED:
          aliases.delete(event.alias);
          break;
        case RegistryEventType.MODEL_TAG_SET:
          tags.set(event.key, event.toValue);
          break;
        case RegistryEventType.MODEL_TAG_DELETED:
          tags.delete(event.key);
          break;
        case RegistryEventType.MODEL_DELETED:
          // The stream ends here. A model registered again under the name is a new model with its
          // own history, so the next watch must start from its state, not resume this one's.
          stageOf.clear();
          aliases.clear();
          tags.clear();
          sequence = 0n;
          generation++;
          break;
        default:
          // Renames, descriptions and version tags do not change which version is served.
          break;
      }
    },
    advance(at) {
      if (at > sequence) sequence = at;
    },
    target(spec) {
      const stage = stageFromName(spec);
      if (stage === undefined) return aliases.get(spec.trim());
      let best: bigint | undefined;
      for (const [v, s] of stageOf) if (s === stage && (best === undefined || v > best)) best = v;
      return best;
    },
    tag(key) {
      return tags.get(key);
    },
    labels(version) {
      const stage = stageOf.get(version);
      return {
        stage: stage === undefined ? "" : stageName(stage),
        aliases: [...aliases]
          .filter(([, v]) => v === version)
          .map(([a]) => a)
          .sort(),
      };
    },
  };
}
