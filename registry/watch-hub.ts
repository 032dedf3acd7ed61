/**
 * Wakes the watchers of a model when its audit log may have grown, from two sources:
 *
 * - one LISTEN per process on the registry's notification channel: every replica's committed
 *   changes (this one's included) arrive through PostgreSQL at once;
 * - the safety net for notifications lost while the LISTEN connection was down (a database
 *   restart, a network cut): every poll interval, one query reads the last event sequence of
 *   every watched model, and the watchers of each model whose sequence moved are woken. A model's
 *   sequences grow in commit order (its changes are serialized by its row lock), so a moved
 *   maximum is a reliable sign of a change.
 *
 * The hub carries no data: a woken watcher reads the events after its own position from the
 * database, so a missed or duplicated wake-up delays a change by one poll interval at most,
 * never loses or repeats it.
 */
import type { Logger } from "../core/logger.js";
import type { SqlClient } from "../storage/sql/sql-client.js";
import { registryEventsChannel } from "./registry-events-channel.js";

/** Options of {@link createWatchHub}. */
export interface WatchHubOptions {
  /** The database whose notifications are listened to. */
  readonly client: Pick<SqlClient, "listen">;
  /** The last event sequence of each of these models (RegistryStore.latestSequences). */
  readonly latestSequences: (modelIds: readonly string[]) => Promise<ReadonlyMap<string, bigint>>;
  /** How often the safety-net query runs while anyone watches, in ms. */
  readonly pollIntervalMs: number;
  readonly logger: Logger;
  /** Notification channel; default {@link registryEventsChannel}. */
  readonly channel?: string;
}

/** Why a wait ended: the model may have changed, nothing happened for the timeout, or stop. */
export type Wakeup = "changed" | "idle" | "closed";

/** One watcher's wake-ups for one model. */
export interface ModelWakeups {
  /**
   * Waits until the model may have changed since the previous call ("changed", at once when a
   * wake-up came in between), `timeoutMs` passed ("idle"), or the hub closed, the subscription
   * closed or `signal` aborted ("closed", meaning stop).
   */
  next(signal: AbortSignal, timeoutMs: number): Promise<Wakeup>;
  /** Stops the wake-ups (idempotent). */
  close(): void;
}

/** The process's source of wake-ups for model watchers. */
export interface WatchHub {
  /** Starts listening; until then (or while the database is down) watchers rely on the poll. */
  start(): Promise<void>;
  /** Wake-ups for one model (by model id). Subscribe before the first read of the log. */
  subscribe(modelId: string): ModelWakeups;
  /** Number of open subscriptions (for metrics and tests). */
  readonly size: number;
  /** Stops listening and polling, and ends every watcher's wait with "closed". */
  close(): Promise<void>;
}

interface Subscription {
  dirty: boolean;
  wake: (() => void) | undefined;
}

/** Creates a watch hub; call start() once the database is migrated. */
export function createWatchHub(options: WatchHubOptions): WatchHub {
  const byModel = new Map<string, Set<Subscription>>();
  /** The last sequence the poll saw per watched model. */
  const known = new Map<string, bigint>();
  let unlisten: (() => Promise<void>) | undefined;
  let closed = false;
  let size = 0;
  let pollTimer: NodeJS.Timeout | undefined;
  let polling = false;

  const wakeModel = (modelId: string): void => {
    for (const sub of byModel.get(modelId) ?? []) {
      sub.dirty = true;
      sub.wake?.();
    }
  };

  const poll = async (): Promise<void> => {
    if (polling || byModel.size === 0) return;
    polling = true;
    try {
      const latest = await options.latestSequences([...byModel.keys()]);
      for (const [modelId, sequence] of latest) {
        const before = known.get(modelId);
        known.set(modelId, sequence);
        // The first sight of a model wakes it too: a change may have committed between the
        // watcher's subscription and this poll, with its notification lost.
        if (before === undefined || sequence > before) wakeModel(modelId);
      }
    } catch (err) {
      options.logger.debug({ err }, "registry watch hub: poll failed; retrying at the next interval");
    } finally {
      polling = false;
    }
  };

  const updatePollTimer = (): void => {
    if (byModel.size > 0 && pollTimer === undefined && !closed) {
      pollTimer = setInterval(() => void poll(), options.pollIntervalMs);
      pollTimer.unref();
    } else if ((byModel.size === 0 || closed) && pollTimer !== undefined) {
      clearInterval(pollTimer);
      pollTimer = undefined;
    }
  };

  return {
    async start() {
      if (closed || unlisten !== undefined) return;
      unlisten = await options.client.listen(options.channel ?? registryEventsChannel, wakeModel);
    },

    subscribe(modelId: string): ModelWakeups {
      const sub: Subscription = { dirty: false, wake: undefined };
      let set = byModel.get(modelId);
      if (set === undefined) {
        set = new Set();
        byModel.set(modelId, set);
      }
      set.add(sub);
      size += 1;
      updatePollTimer();
      let open = true;
      const close = (): void => {
        if (!open) return;
        open = false;
        size -= 1;
        const current = byModel.get(modelId);
        current?.delete(sub);
        if (current?.size === 0) {
          byModel.delete(modelId);
          known.delete(modelId);
        }
        updatePollTimer();
        sub.wake?.();
      };
      return {
        async next(signal: AbortSignal, timeoutMs: number): Promise<Wakeup> {
          if (!open || closed || signal.aborted) return "closed";
          let timedOut = false;
          if (!sub.dirty) {
            await new Promise<void>((resolve) => {
              const done = (): void => {
                clearTimeout(timer);
                signal.removeEventListener("abort", done);
                sub.wake = undefined;
                resolve();
              };
              const timer = setTimeout(() => {
                timedOut = true;
                done();
              }, timeoutMs);
              signal.addEventListener("abort", done, { once: true });
              sub.wake = done;
            });
          }
          if (!open || closed || signal.aborted) return "closed";
          if (sub.dirty) {
            sub.dirty = false;
            return "changed";
          }
          return timedOut ? "idle" : "changed";
        },
        close,
      };
    },

    get size() {
      return size;
    },

    async close() {
      closed = true;
      updatePollTimer();
      for (const set of byModel.values()) for (const sub of set) sub.wake?.();
      const stop = unlisten;
      unlisten = undefined;
      if (stop !== undefined) {
        await stop().catch((err: unknown) => options.logger.warn({ err }, "registry watch hub: unlisten failed"));
      }
    },
  };
}
