/**
 * Serves whichever version a stage or alias (MODEL_STAGE) names in the registry. Told of every
 * change to the model's state by the watcher, it works out the target version; when that differs
 * from the served one it loads and warms the target beside it and swaps atomically (the model
 * manager's hot swap: queued requests finish on the old version, which is then unloaded). A
 * failed load (registry gone, checksum mismatch, bad model) leaves the served version in place
 * and is retried with backoff; a newer target interrupts the wait. When the stage or alias points
 * nowhere, the served version stays: taking a working model down because a stage was emptied
 * would turn a registry edit into an outage, so that is logged instead.
 */
import type { Logger } from "../../core/logger.js";
import type { ModelLoader } from "../models/model-loader.js";
import type { LoadedModel, ModelManager } from "../models/model-manager.js";
import type { RegistryModelState, VersionLabels } from "./registry-model-state.js";
import { type BackoffOptions, createBackoff, sleep } from "./retry-backoff.js";

/** Options of {@link createStageFollower}. */
export interface StageFollowerOptions {
  readonly manager: ModelManager;
  /** The model's state, kept current by the watcher. */
  readonly state: RegistryModelState;
  /** Registered model name (for logs). */
  readonly name: string;
  /** A stage name (case-insensitive) or an alias. */
  readonly spec: string;
  /** Makes the loader of a version; `signal` aborts its registry calls at shutdown. */
  readonly loaderFor: (version: bigint, labels: VersionLabels, signal: AbortSignal) => ModelLoader;
  /** Called after each successful swap, with the version now served and the one it replaced. */
  readonly onServed: (model: LoadedModel, previous: string | undefined) => void;
  readonly logger: Logger;
  /** Retry backoff after a failed load; default 200 ms doubling up to 10 s. */
  readonly backoff?: BackoffOptions;
}

/** A running follower. */
export interface StageFollower {
  /** Re-reads the state: relabels the loaded versions and swaps when the target moved. Never throws. */
  changed(): void;
  /** Stops: aborts a download in progress and waits for the current attempt to settle. */
  close(): Promise<void>;
}

/** Creates a follower; it does nothing until the first `changed()`. */
export function createStageFollower(options: StageFollowerOptions): StageFollower {
  const { manager, state, name, spec, logger } = options;
  const backoff = createBackoff(options.backoff);
  const stop = new AbortController();
  let running: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let lastTarget: bigint | undefined;
  /** The state's generation when the served version was loaded (see RegistryModelState.generation). */
  let servedGeneration = state.generation;

  /** True when `target` is what is served (the same version of the same incarnation of the model). */
  function serving(target: bigint): boolean {
    return String(target) === manager.served?.artifact.version && servedGeneration === state.generation;
  }

  /**
   * Gives every loaded version its labels from the registry, with one exception: while a new
   * target is loading, the served version keeps the followed stage or alias, so that requests
   * pinning it (`"model_version": "Production"`) are answered by the version that answers everyone
   * else, instead of NOT_FOUND until the swap completes.
   */
  function relabel(): void {
    const target = state.target(spec);
    const incoming = target !== undefined && !serving(target) ? state.labels(target) : undefined;
    const servedVersion = manager.served?.artifact.version;
    for (const m of manager.loaded()) {
      const version = m.artifact.version;
      const labels = state.labels(BigInt(version));
      if (incoming === undefined || version !== servedVersion) {
        manager.relabel(version, labels);
      } else if (incoming.aliases.includes(spec)) {
        manager.relabel(version, { stage: labels.stage, aliases: [...new Set([...labels.aliases, spec])] });
      } else {
        manager.relabel(version, { stage: incoming.stage, aliases: labels.aliases });
      }
    }
  }

  async function follow(): Promise<void> {
    while (!stop.signal.aborted) {
      const target = state.target(spec);
      const served = manager.served?.artifact.version;
      if (target === undefined || serving(target)) return;
      const generation = state.generation;
      try {
        const model = await manager.swap(options.loaderFor(target, state.labels(target), stop.signal));
        servedGeneration = generation;
        backoff.reset();
        relabel();
        options.onServed(model, served);
      } catch (err) {
        if (stop.signal.aborted) return;
        // The target moved while this one was loading: try the new one at once.
        if (state.target(spec) !== target) {
          logger.warn({ err, model: name, version: String(target) }, "a version failed to load after it was replaced");
          continue;
        }
        const wait = backoff.next();
        logger.error(
          { err, model: name, version: String(target), served, retryInMs: wait },
          "cannot serve the new version; the current one keeps serving",
        );
        // Woken early when the target moves, so a fixed version is not held up by a failed one.
        const moved = new Promise<void>((resolve) => {
          wake = resolve;
        });
        await Promise.race([sleep(wait, stop.signal), moved]);
        wake = undefined;
      }
    }
  }

  function changed(): void {
    if (stop.signal.aborted) return;
    relabel();
    const target = state.target(spec);
    if (target !== lastTarget) {
      lastTarget = target;
      if (target === undefined) {
        logger.warn(
          { model: name, stage: spec, served: manager.served?.artifact.version },
          "no version has this stage or alias; keeping the served version",
        );
      } else {
        logger.info({ model: name, stage: spec, version: String(target) }, "registry target version");
      }
      wake?.();
    }
    running ??= follow().finally(() => {
      running = undefined;
      // Defensive: a change that slipped in as the loop ended would otherwise wait for the next event.
      const now = state.target(spec);
      if (now !== undefined && !serving(now)) changed();
    });
  }

  return {
    changed,
    async close() {
      stop.abort();
      wake?.();
      await running;
    },
  };
}
