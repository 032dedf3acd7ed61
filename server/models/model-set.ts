/**
 * The models one inference process serves, by registered name: one model manager each (loaded,
 * batched, hot-swapped and unloaded on its own), all sharing the process's worker pool and memory
 * budget. One of them is the default model (MODEL_NAME), the one requests that name no model reach.
 *
 * The set is fixed when the server starts (MODEL_NAME plus MODEL_NAMES or MODEL_PATHS): a caller
 * cannot make the server load a model by naming it, so metrics labelled by model stay bounded.
 * Nothing here is global: each process builds its own set (several processes per host each have
 * their own models, pool and budget).
 */
import { inferenceErrors } from "../../core/errors/index.js";
import type { QueueDepthSample } from "../inference-metrics.js";
import { createModelTraffic, type ModelTraffic } from "../routing/model-traffic.js";
import type { ModelManager } from "./model-manager.js";

/** The served models. */
export interface ModelSet {
  /** The default model's name (MODEL_NAME). */
  readonly defaultName: string;
  /** The default model's manager. */
  readonly default: ModelManager;
  /**
   * The manager of the model a request names: "" (or undefined) for the default model;
   * INFERENCE_MODEL_NOT_FOUND for a name the server does not serve, INVALID_ARGUMENT for a
   * name that is not a string.
   */
  get(name: unknown): ModelManager;
  /** The manager of `name`, or undefined when it is not served (no error). */
  find(name: string): ModelManager | undefined;
  /** Every served model, by name. */
  list(): readonly ModelManager[];
  /** The traffic split in force for the model `name` (one per served model; none for others). */
  trafficOf(name: string): ModelTraffic | undefined;
  /** Rows queued per loaded version of every model, for inference_queue_depth. */
  queueDepths(): QueueDepthSample[];
  /** Retires every loaded version of every model (their queued requests finish first). */
  close(): Promise<void>;
}

/**
 * Creates the set over one manager per model (`managers`, with distinct names); `defaultName` must
 * be one of them.
 */
export function createModelSet(defaultName: string, managers: readonly ModelManager[]): ModelSet {
  const byName = new Map<string, ModelManager>();
  for (const m of managers) {
    if (byName.has(m.name)) throw new Error(`model "${m.name}" is served twice`);
    byName.set(m.name, m);
  }
  const fallback = byName.get(defaultName);
  if (fallback === undefined) throw new Error(`the default model "${defaultName}" is not in the set`);
  const traffic = new Map([...byName.keys()].map((name) => [name, createModelTraffic()]));
  const sorted = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    defaultName,
    default: fallback,
    get(name) {
      if (name === undefined || name === null || name === "") return fallback;
      if (typeof name !== "string") throw inferenceErrors.invalidInput("model", "must be a string (a model name)");
      // Model names are at most 256 characters (the registry's rule): a longer one is not echoed back.
      if (name.length > 256) throw inferenceErrors.invalidInput("model", "must be at most 256 characters");
      const found = byName.get(name);
      if (found === undefined) throw inferenceErrors.modelNotFound(name);
      return found;
    },
    find(name) {
      return byName.get(name);
    },
    list() {
      return sorted;
    },
    trafficOf(name) {
      return traffic.get(name);
    },
    queueDepths() {
      return sorted.flatMap((m) => m.queueDepths());
    },
    async close() {
      await Promise.all(sorted.map((m) => m.close()));
    },
  };
}
