import { describe, expect, it } from "vitest";
import { createLogger } from "../core/logger.js";
import { createWatchHub } from "./watch-hub.js";

const logger = createLogger({ level: "silent" });

/** A listen() that hands out the callback, standing in for a database connection's notifications. */
function notifier() {
  const listeners = new Map<string, (payload: string) => void>();
  return {
    client: {
      listen: async (channel: string, onPayload: (payload: string) => void) => {
        listeners.set(channel, onPayload);
        return async () => {
          listeners.delete(channel);
        };
      },
    },
    notify: (payload: string) => {
      for (const l of listeners.values()) l(payload);
    },
    get listening() {
      return listeners.size;
    },
  };
}

const hour = 60 * 60_000;
const noSequences = async () => new Map<string, bigint>();

describe("watch hub", () => {
  it("wakes the watchers of the notified model only, including a notification that came before the wait", async () => {
    const n = notifier();
    const hub = createWatchHub({ client: n.client, latestSequences: noSequences, pollIntervalMs: hour, logger });
    await hub.start();
    const one = hub.subscribe("1");
    const two = hub.subscribe("2");
    const signal = new AbortController().signal;
    n.notify("1");
    await expect(one.next(signal, hour)).resolves.toBe("changed");
    let twoWoke = "";
    const twoWaits = two.next(signal, hour).then((v) => {
      twoWoke = v;
    });
    const oneWaits = one.next(signal, hour);
    n.notify("1");
    await expect(oneWaits).resolves.toBe("changed");
    expect(twoWoke).toBe("");
    n.notify("2");
    await twoWaits;
    expect(twoWoke).toBe("changed");
    one.close();
    two.close();
    expect(hub.size).toBe(0);
    await hub.close();
    expect(n.listening).toBe(0);
  });

  it("wakes the watchers of a model whose last sequence moved when no notification came (the poll)", async () => {
    const silent = { listen: async () => async () => {} };
    const sequences = new Map<string, bigint>([
      ["1", 5n],
      ["2", 9n],
    ]);
    const asked: string[][] = [];
    const hub = createWatchHub({
      client: silent,
      latestSequences: async (ids) => {
        asked.push([...ids].sort());
        return new Map(sequences);
      },
      pollIntervalMs: 5,
      logger,
    });
    await hub.start();
    const one = hub.subscribe("1");
    const two = hub.subscribe("2");
    // The first poll wakes both (it cannot know what changed before it); then model 1 moves.
    const signal = new AbortController().signal;
    await expect(one.next(signal, hour)).resolves.toBe("changed");
    await expect(two.next(signal, hour)).resolves.toBe("changed");
    sequences.set("1", 6n);
    let twoWoke = "";
    void two.next(new AbortController().signal, hour).then((v) => {
      twoWoke = v;
    });
    await expect(one.next(new AbortController().signal, hour)).resolves.toBe("changed");
    expect(twoWoke).toBe("");
    expect(asked.at(-1)).toEqual(["1", "2"]);
    one.close();
    two.close();
    await hub.close();
  });

  it("ends an uneventful wait with idle after the timeout", async () => {
    const hub = createWatchHub({
      client: notifier().client,
      latestSequences: noSequences,
      pollIntervalMs: hour,
      logger,
    });
    const sub = hub.subscribe("1");
    await expect(sub.next(new AbortController().signal, 5)).resolves.toBe("idle");
    sub.close();
    await hub.close();
  });

  it("ends waits with closed on abort, on close of the subscription and on close of the hub", async () => {
    const n = notifier();
    const hub = createWatchHub({ client: n.client, latestSequences: noSequences, pollIntervalMs: hour, logger });
    await hub.start();
    const abort = new AbortController();
    const a = hub.subscribe("1");
    const waiting = a.next(abort.signal, hour);
    abort.abort();
    await expect(waiting).resolves.toBe("closed");
    const b = hub.subscribe("1");
    const bWaits = b.next(new AbortController().signal, hour);
    b.close();
    await expect(bWaits).resolves.toBe("closed");
    const c = hub.subscribe("1");
    const cWaits = c.next(new AbortController().signal, hour);
    await hub.close();
    await expect(cWaits).resolves.toBe("closed");
    await expect(c.next(new AbortController().signal, hour)).resolves.toBe("closed");
  });
});
