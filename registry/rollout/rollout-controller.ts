/**
 * The progressive rollout controller (issue 16): runs in the registry process, so that one
 * decision is taken for every inference replica, with no Prometheus. Every tick it looks at the
 * models with a rollout (`mlpipe.rollout` set, or a `mlpipe.rollout_status` still running) and:
 *
 * - starts a new one: the challenger gets its first weight in the traffic split;
 * - at the end of each step (`interval` after it began) compares what the champion and the
 *   challenger answered during it (merged reports of every replica, traffic-stats-window.ts) and
 *   holds, steps up, rolls back (split champion=100) or promotes (the champion alias moves to the
 *   challenger's version, split champion=100), see rollout-decision.ts;
 * - aborts a rollout whose `mlpipe.rollout` tag was deleted (split champion=100).
 *
 * All state is in the model's tags (the split, `mlpipe.rollout`, `mlpipe.rollout_status`), written
 * through the store with the actor `rollout-controller`: every decision is an audit event, and a
 * restarted registry resumes where the tags say (a step whose reports were lost holds). A finished
 * rollout deletes its `mlpipe.rollout` tag before writing its final status, so a crash in between
 * reads as an abort rather than a restart of the same rollout.
 *
 * One controller per database: with several registry replicas on one PostgreSQL, each would take
 * the same decisions twice (not coordinated yet).
 */
import { registryErrors } from "../../core/errors/registry-errors.js";
import type { Logger } from "../../core/logger.js";
import { parseRolloutSpec, type RolloutSpec, rolloutTag } from "../../core/validation/rollout-spec.js";
import {
  formatRolloutStatus,
  parseRolloutStatus,
  type RolloutStatus,
  type RolloutVersionNumbers,
  rolloutStatusTag,
} from "../../core/validation/rollout-status.js";
import { trafficSplitTag } from "../../core/validation/traffic-split.js";
import type { RegisteredModel } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import type { RegistryStore } from "../registry-store.js";
import { latencyQuantileMs } from "./latency-quantile.js";
import { decideStep, firstWeight } from "./rollout-decision.js";
import type { TrafficStatsWindow } from "./traffic-stats-window.js";

/** The actor of every change the controller makes, in the audit history. */
export const rolloutActor = "rollout-controller";

/** Options of {@link createRolloutController}. */
export interface RolloutControllerOptions {
  readonly store: RegistryStore;
  /** The merged traffic reports (ReportTrafficStats feeds the same window). */
  readonly stats: TrafficStatsWindow;
  readonly logger: Logger;
  /** Time between two looks at the rollouts, ms (default 1000); a step ends at most this late. */
  readonly tickMs?: number;
  /** The clock, ms since the epoch (default Date.now); tests pass their own. */
  readonly now?: () => number;
}

/** A running controller. */
export interface RolloutController {
  /** One look at every rollout (what the timer runs); exposed for tests. Failures are logged. */
  tick(): Promise<void>;
  /** Stops the timer and waits for a tick in progress. */
  close(): Promise<void>;
}

/** Models whose tags say a rollout is set or still running. */
const rolloutFilter = `tags.\`${rolloutTag}\` IS NOT NULL OR tags.\`${rolloutStatusTag}\` LIKE '%"state":"running"%'`;

/** The split with `weight` percent to the challenger. */
function splitValue(spec: Pick<RolloutSpec, "champion" | "challenger">, weight: number): string {
  return weight === 0 ? `${spec.champion}=100` : `${spec.champion}=${100 - weight},${spec.challenger}=${weight}`;
}

/** Creates the controller; with `tickMs` > 0 (the default) its timer starts at once. */
export function createRolloutController(options: RolloutControllerOptions): RolloutController {
  const { store, stats, logger } = options;
  const now = options.now ?? Date.now;
  const tickMs = options.tickMs ?? 1000;

  const writeStatus = async (name: string, status: RolloutStatus): Promise<void> => {
    await store.setModelTag(name, rolloutStatusTag, formatRolloutStatus(status), rolloutActor);
    logger.info({ model: name, rollout: status }, `rollout: ${status.decision}`);
  };
  const writeSplit = (name: string, spec: Pick<RolloutSpec, "champion" | "challenger">, weight: number) =>
    store.setModelTag(name, trafficSplitTag, splitValue(spec, weight), rolloutActor);
  const deleteSpec = async (name: string): Promise<void> => {
    await store.deleteModelTag(name, rolloutTag, rolloutActor).catch((err: unknown) => {
      // Deleted meanwhile (an abort racing the end): nothing left to delete.
      if (!registryErrors.tagNotFound.is(err)) throw err;
    });
  };

  const numbers = (name: string, version: bigint, since: number): RolloutVersionNumbers => {
    const merged = stats.merged(name, version, since);
    const p99 = latencyQuantileMs(merged.latency, 0.99);
    return {
      version: version.toString(),
      requests: merged.requests,
      errors: merged.errors,
      errorRatio: merged.requests === 0 ? 0 : merged.errors / merged.requests,
      p99Ms: p99 === undefined ? null : Math.round(p99 * 1000) / 1000,
      replicas: merged.replicas,
    };
  };

  /** Ends a rollout that did not succeed: the champion gets all traffic back. */
  const finishBack = async (
    model: RegisteredModel,
    spec: Pick<RolloutSpec, "champion" | "challenger">,
    status: Omit<RolloutStatus, "weight" | "stepStartedAt">,
    deleteTag: boolean,
  ): Promise<void> => {
    await writeSplit(model.name, spec, 0);
    if (deleteTag) await deleteSpec(model.name);
    await writeStatus(model.name, { ...status, weight: 0, stepStartedAt: now() });
    stats.forget(model.name);
  };

  const look = async (model: RegisteredModel): Promise<void> => {
    const name = model.name;
    const specValue = model.tags[rolloutTag];
    const status = parseRolloutStatus(model.tags[rolloutStatusTag]);
    const running = status?.state === "running" ? status : undefined;

    if (specValue === undefined) {
      if (running === undefined) return;
      const previous = parseRolloutSpec(running.spec);
      if (!previous.ok) return;
      await finishBack(
        model,
        previous.spec,
        { state: "aborted", decision: "abort", reason: `the ${rolloutTag} tag was deleted`, spec: running.spec },
        false,
      );
      return;
    }
    const parsed = parseRolloutSpec(specValue);
    if (!parsed.ok) {
      // Set before this release validated it: say why and stop, leaving the split alone.
      await deleteSpec(name);
      await writeStatus(name, {
        state: "failed",
        weight: 0,
        stepStartedAt: now(),
        decision: "abort",
        reason: `not a rollout: ${parsed.problem}`,
        spec: specValue,
      });
      return;
    }
    const spec = parsed.spec;
    const championVersion = model.aliases[spec.champion];
    const challengerVersion = model.aliases[spec.challenger];
    const fail = (reason: string) =>
      finishBack(model, spec, { state: "failed", decision: "rollback", reason, spec: specValue }, true);
    if (championVersion === undefined || challengerVersion === undefined) {
      const missing = championVersion === undefined ? spec.champion : spec.challenger;
      await fail(`the model has no alias "${missing}"`);
      return;
    }
    if (championVersion === challengerVersion) {
      await fail(`champion and challenger are the same version ${championVersion}`);
      return;
    }

    if (running === undefined || running.spec !== specValue) {
      const weight = firstWeight(spec);
      stats.forget(name);
      await writeSplit(name, spec, weight);
      await writeStatus(name, {
        state: "running",
        weight,
        stepStartedAt: now(),
        decision: "start",
        reason: `champion version ${championVersion}, challenger version ${challengerVersion}, weight ${weight}`,
        spec: specValue,
      });
      return;
    }

    // The split is the controller's while the rollout runs (a crash between two writes, or a
    // manual change, is put right).
    if (model.tags[trafficSplitTag] !== splitValue(spec, running.weight)) {
      await writeSplit(name, spec, running.weight);
    }
    const at = now();
    if (at - running.stepStartedAt < spec.intervalMs) return;

    const champion = numbers(name, championVersion, running.stepStartedAt);
    const challenger = numbers(name, challengerVersion, running.stepStartedAt);
    const decision = decideStep(spec, running.weight, champion, challenger);
    const measured = { champion, challenger, spec: specValue };
    switch (decision.kind) {
      case "hold":
      case "step": {
        const weight = decision.kind === "step" ? decision.weight : running.weight;
        if (weight !== running.weight) await writeSplit(name, spec, weight);
        await writeStatus(name, {
          state: "running",
          weight,
          stepStartedAt: at,
          decision: decision.kind,
          reason: decision.reason,
          ...measured,
        });
        stats.dropBefore(name, at);
        return;
      }
      case "rollback":
        await finishBack(
          model,
          spec,
          { state: "failed", decision: "rollback", reason: decision.reason, ...measured },
          true,
        );
        return;
      case "promote":
        await store.setAlias(name, spec.champion, challengerVersion, rolloutActor);
        await writeSplit(name, spec, 0);
        await deleteSpec(name);
        await writeStatus(name, {
          state: "succeeded",
          weight: 0,
          stepStartedAt: at,
          decision: "promote",
          reason: `${decision.reason}; alias "${spec.champion}" moved to version ${challengerVersion}`,
          ...measured,
        });
        stats.forget(name);
        return;
    }
  };

  let closed = false;
  let busy = false;
  let current: Promise<void> = Promise.resolve();
  const tick = async (): Promise<void> => {
    let pageToken = "";
    do {
      const page = await store.searchModels({ filter: rolloutFilter, maxResults: 100, orderBy: [], pageToken });
      for (const model of page.items) {
        if (closed) return;
        try {
          await look(model);
        } catch (err) {
          logger.warn({ err, model: model.name }, "rollout: could not look at the rollout, retrying next tick");
        }
      }
      pageToken = page.nextPageToken;
    } while (pageToken !== "" && !closed);
  };
  const runTick = (): Promise<void> => {
    busy = true;
    current = current
      .then(tick)
      .catch((err: unknown) => {
        logger.warn({ err }, "rollout: could not list the rollouts, retrying next tick");
      })
      .finally(() => {
        busy = false;
      });
    return current;
  };
  // A slow tick (a slow database) is not queued behind by the timer.
  const timer = tickMs > 0 ? setInterval(() => busy || void runTick(), tickMs) : undefined;
  timer?.unref();
  return {
    tick: runTick,
    async close() {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      await current;
    },
  };
}
