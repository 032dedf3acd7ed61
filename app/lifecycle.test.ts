import { describe, expect, it } from "vitest";
import { createLogger } from "../core/logger.js";
import { captureLog } from "../test/support/captured-log.js";
import { composeLifecycle, createLifecycle } from "./lifecycle.js";

function setup() {
  const { lines, destination } = captureLog();
  return { lines, logger: createLogger({ level: "info", destination }), events: [] as string[] };
}

describe("createLifecycle", () => {
  it("starts parts in order and closes them in reverse, started parts and close steps alike", async () => {
    const { logger, events } = setup();
    const life = createLifecycle(logger);
    const a = await life.start(
      "a",
      async () => {
        events.push("start a");
        return "A";
      },
      (part) => void events.push(`close ${part}`),
    );
    life.onClose("b", () => void events.push("close b"));
    await life.start(
      "c",
      () => events.push("start c"),
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push("close c");
      },
    );
    expect(a).toBe("A");
    expect(life.closing).toBe(false);
    await life.close();
    expect(life.closing).toBe(true);
    expect(events).toEqual(["start a", "start c", "close c", "close b", "close A"]);
  });

  it("closes once however often it is asked", async () => {
    const { logger, events } = setup();
    const life = createLifecycle(logger);
    life.onClose("only", () => void events.push("closed"));
    const first = life.close();
    expect(life.close()).toBe(first);
    await first;
    await life.close();
    expect(events).toEqual(["closed"]);
  });

  it("runs every step when one fails, logs the failure and rejects with the first", async () => {
    const { logger, events, lines } = setup();
    const life = createLifecycle(logger);
    life.onClose("first", () => void events.push("first"));
    life.onClose("bad", () => {
      throw new Error("cannot close");
    });
    life.onClose("worse", async () => {
      throw new Error("cannot close either");
    });
    await expect(life.close()).rejects.toThrow("cannot close either");
    expect(events).toEqual(["first"]);
    expect(lines.filter((l) => l.msg === "closing failed").map((l) => l.part)).toEqual(["worse", "bad"]);
  });
});

describe("composeLifecycle", () => {
  it("returns what the composition returns, leaving its parts open", async () => {
    const { logger, events } = setup();
    const server = await composeLifecycle(logger, async (life) => {
      life.onClose("listener", () => void events.push("closed"));
      return { close: () => life.close() };
    });
    expect(events).toEqual([]);
    await server.close();
    expect(events).toEqual(["closed"]);
  });

  it("unwinds what started, in reverse, when a later start fails, and rethrows that failure", async () => {
    const { logger, events } = setup();
    const failure = new Error("port in use");
    await expect(
      composeLifecycle(logger, async (life) => {
        await life.start(
          "database",
          () => "db",
          () => void events.push("close database"),
        );
        life.onClose("listeners", () => {
          events.push("close listeners");
          throw new Error("a close failure is logged, not rethrown");
        });
        await life.start(
          "listener",
          () => {
            throw failure;
          },
          () => void events.push("never registered"),
        );
        return "unreachable";
      }),
    ).rejects.toBe(failure);
    expect(events).toEqual(["close listeners", "close database"]);
  });
});
