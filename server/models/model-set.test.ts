import { describe, expect, it } from "vitest";
import { inferenceErrors } from "../../core/errors/index.js";
import type { QueueDepthSample } from "../inference-metrics.js";
import type { ModelManager } from "./model-manager.js";
import { createModelSet } from "./model-set.js";

/** The parts of a manager the set uses: its name, queue depths and close. */
function standIn(name: string, closed: string[]): ModelManager {
  const depth: QueueDepthSample = { labels: { model: name, version: "1" }, rows: name.length };
  return {
    name,
    queueDepths: () => [depth],
    close: async () => {
      closed.push(name);
    },
  } as Partial<ModelManager> as ModelManager;
}

describe("model set", () => {
  const closed: string[] = [];
  const set = createModelSet("iris", [standIn("wine", closed), standIn("iris", closed), standIn("digits", closed)]);

  it("gives the default model for no name and the named one otherwise", () => {
    expect(set.get(undefined).name).toBe("iris");
    expect(set.get("").name).toBe("iris");
    expect(set.default.name).toBe("iris");
    expect(set.get("wine").name).toBe("wine");
    expect(set.find("nope")).toBeUndefined();
  });

  it("refuses a name it does not serve (NOT_FOUND) and a name that is not a string (INVALID_ARGUMENT)", () => {
    expect(() => set.get("nope")).toThrow(/model "nope" is not served here/);
    let err: unknown;
    try {
      set.get("nope");
    } catch (e) {
      err = e;
    }
    expect(inferenceErrors.modelNotFound.is(err)).toBe(true);
    expect(() => set.get(7)).toThrow(/must be a string/);
    expect(() => set.get("x".repeat(257))).toThrow(/at most 256 characters/);
  });

  it("lists by name, samples every model's queues and closes every model", async () => {
    expect(set.list().map((m) => m.name)).toEqual(["digits", "iris", "wine"]);
    expect(set.queueDepths().map((d) => [d.labels.model, d.rows])).toEqual([
      ["digits", 6],
      ["iris", 4],
      ["wine", 4],
    ]);
    await set.close();
    expect(closed.sort()).toEqual(["digits", "iris", "wine"]);
  });

  it("refuses a set without its default model or with a model twice", () => {
    expect(() => createModelSet("iris", [standIn("wine", [])])).toThrow(/default model "iris"/);
    expect(() => createModelSet("iris", [standIn("iris", []), standIn("iris", [])])).toThrow(/served twice/);
  });
});
