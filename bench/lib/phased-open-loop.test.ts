import { describe, expect, it } from "vitest";
import { HttpStatusError } from "./load-generator.js";
import { createPhaseTally, phasedOpenLoop } from "./phased-open-loop.js";

describe("createPhaseTally", () => {
  it("books answers by phase and version, groups phases' latency, and counts every failure in the run", () => {
    const tally = createPhaseTally(["off", "on", "off"]);
    tally.answered(0, 1, "1");
    tally.answered(0, 2, "2");
    tally.answered(1, 50, "1");
    tally.answered(2, 3, "1");
    // Due outside every window: not measured.
    tally.answered(-1, 1000, "3");
    tally.failed(-1, 5, new HttpStatusError(503));
    tally.failed(1, 7, { code: 8 });

    expect(tally.phase(0)).toMatchObject({ ok: 2, versions: { "1": 1, "2": 1 }, errors: {} });
    expect(tally.phase(1)).toMatchObject({ ok: 1, versions: { "1": 1 }, errors: { RESOURCE_EXHAUSTED: 1 } });
    expect(tally.phase(2).versions).toEqual({ "1": 1 });
    expect(tally.errors).toEqual({ http_503: 1, RESOURCE_EXHAUSTED: 1 });
    const groups = tally.groups();
    expect(groups.off?.count).toBe(3);
    expect(groups.off?.max).toBeCloseTo(3, 2);
    expect(groups.on?.count).toBe(1);
    expect(groups.on?.max).toBeCloseTo(50, 1);
    expect(() => tally.phase(3)).toThrow(RangeError);
  });

  it("books send lateness by group, leaving out requests due outside every window", () => {
    const tally = createPhaseTally(["off", "on", undefined]);
    tally.sentLate(0, 0.5);
    tally.sentLate(0, 4);
    tally.sentLate(1, 1);
    tally.sentLate(2, 100);
    tally.sentLate(-1, 100);
    const lateness = tally.sendLateness();
    expect(Object.keys(lateness).sort()).toEqual(["off", "on"]);
    expect(lateness.off?.count).toBe(2);
    expect(lateness.off?.max).toBeCloseTo(4, 2);
    expect(lateness.on?.count).toBe(1);
  });

  it("books each target's answers apart and in the groups of its own side of the phase", () => {
    const tally = createPhaseTally(
      [
        [
          ["on", "a on"],
          ["off", "b off"],
        ],
        [
          ["off", "a off"],
          ["on", "b on"],
        ],
      ],
      2,
    );
    tally.answered(0, 10, "1", 0);
    tally.answered(0, 2, "2", 1);
    tally.answered(1, 3, "1", 0);
    tally.answered(1, 20, "1", 1);
    tally.answered(1, 21, "1", 1);
    tally.sentLate(0, 0.5, 0);
    tally.sentLate(1, 0.7, 1);
    expect(tally.phase(0)).toMatchObject({ ok: 2, versions: { "1": 1, "2": 1 } });
    expect(tally.phase(0).targets.map((t) => t.ok)).toEqual([1, 1]);
    expect(tally.phase(1).targets[1]?.versions).toEqual({ "1": 2 });
    expect(tally.phase(1).targets[1]?.latency.summary().max).toBeCloseTo(21, 1);
    const groups = tally.groups();
    expect(groups.on?.count).toBe(3);
    expect(groups.on?.max).toBeCloseTo(21, 1);
    expect(groups.off?.count).toBe(2);
    expect(groups.off?.max).toBeCloseTo(3, 2);
    expect(groups["a on"]?.count).toBe(1);
    expect(groups["b on"]?.count).toBe(2);
    expect(groups["a off"]?.max).toBeCloseTo(3, 2);
    expect(groups["b off"]?.max).toBeCloseTo(2, 2);
    const lateness = tally.sendLateness();
    expect(lateness["a on"]?.count).toBe(1);
    expect(lateness["b on"]?.count).toBe(1);
    expect(lateness.off?.count).toBe(0);
    tally.failed(1, 9, new HttpStatusError(503), 1);
    tally.failed(1, 9, new HttpStatusError(503), 1);
    tally.failed(1, 9, { code: 8 }, 0);
    expect(tally.phase(1).targets.map((t) => t.errors)).toEqual([{ RESOURCE_EXHAUSTED: 1 }, { http_503: 2 }]);
    expect(tally.phase(1).errors).toEqual({ RESOURCE_EXHAUSTED: 1, http_503: 2 });
    expect(() => tally.answered(0, 1, "1", 2)).toThrow(RangeError);
    expect(() => createPhaseTally(["x"], 0)).toThrow(RangeError);
  });

  it("keeps phases without a group out of every group", () => {
    const tally = createPhaseTally([undefined, "on"]);
    tally.answered(0, 1, "1");
    expect(tally.groups()).toEqual({ on: expect.objectContaining({ count: 0 }) });
  });
});

describe("phasedOpenLoop", () => {
  it("keeps sending through the transitions, runs them in order and books each phase's answers", async () => {
    const events: string[] = [];
    let calls = 0;
    let callsDuringTransition = 0;
    let inTransition = false;
    const result = await phasedOpenLoop(
      async () => {
        calls++;
        if (inTransition) callsDuringTransition++;
        if (calls % 50 === 0) throw new HttpStatusError(500);
        return calls % 10 === 0 ? "2" : "1";
      },
      {
        rate: 500,
        warmupSeconds: 0.05,
        phases: ["a", "b"].map((name) => ({
          name,
          seconds: 0.2,
          group: "all",
          before: async () => {
            events.push(`before ${name}`);
            inTransition = true;
            await new Promise((r) => setTimeout(r, 100));
            inTransition = false;
          },
          window: {
            opened: async () => {
              events.push(`opened ${name}`);
            },
            closed: async () => {
              events.push(`closed ${name}`);
            },
          },
        })),
      },
    );

    expect(events).toEqual(["before a", "opened a", "closed a", "before b", "opened b", "closed b"]);
    expect(callsDuringTransition).toBeGreaterThan(0);
    expect(result.sent).toBe(calls);
    expect(result.phases.map((p) => p.name)).toEqual(["a", "b"]);
    for (const p of result.phases) expect(p.beforeSeconds).toBeGreaterThan(0);
    let measured = 0;
    for (const p of result.phases) {
      const answered = Object.values(p.versions).reduce((x, y) => x + y, 0);
      expect(answered).toBe(p.load.ok);
      expect(p.load.ok).toBeGreaterThan(0);
      expect(p.load).toMatchObject({ mode: "open", targetRate: 500 });
      measured += p.load.ok + (p.load.errors.http_500 ?? 0);
    }
    // Warm-up and transitions are sent but not measured; their failures still count.
    expect(measured).toBeLessThan(calls);
    expect(result.errors.http_500).toBe(Math.floor(calls / 50));
    const byStage = Object.values(result.errorsByStage).reduce((n, byCode) => n + (byCode.http_500 ?? 0), 0);
    expect(byStage).toBe(result.errors.http_500);
    for (const p of result.phases) expect(result.errorsByStage[p.name] ?? {}).toEqual(p.load.errors);
    // Every measured request's send lateness, failed ones included.
    expect(result.sendLateness.all?.count).toBe(measured);
    expect(result.groups.all?.count).toBe(
      measured - (result.phases[0]?.load.errors.http_500 ?? 0) - (result.phases[1]?.load.errors.http_500 ?? 0),
    );
  });

  it("sends to several calls in turn and books each one's answers apart", async () => {
    const sentTo = [0, 0];
    const result = await phasedOpenLoop(
      [0, 1].map((k) => async () => {
        sentTo[k] = (sentTo[k] ?? 0) + 1;
        if (k === 1) await new Promise((r) => setTimeout(r, 5));
        // Every 10th request to the first call fails.
        if (k === 0 && (sentTo[0] ?? 0) % 10 === 0) throw new HttpStatusError(500);
        return k === 0 ? "1" : "2";
      }),
      {
        rate: 400,
        warmupSeconds: 0.02,
        phases: [
          { name: "x", seconds: 0.2, group: [["fast"], ["slow"]] },
          { name: "y", seconds: 0.2, group: [["fast"], ["slow"]] },
        ],
      },
    );
    expect(Math.abs((sentTo[0] ?? 0) - (sentTo[1] ?? 0))).toBeLessThanOrEqual(1);
    expect(result.sent).toBe((sentTo[0] ?? 0) + (sentTo[1] ?? 0));
    for (const p of result.phases) {
      const [fast, slow] = p.targets;
      expect(fast?.versions).toEqual({ "1": fast?.ok });
      expect(slow?.versions).toEqual({ "2": slow?.ok });
      expect((fast?.ok ?? 0) + (slow?.ok ?? 0)).toBe(p.load.ok);
      expect(slow?.errors).toEqual({});
      expect(fast?.errors).toEqual(p.load.errors);
      // A 5 ms timer (libuv's loop clock may fire it up to a millisecond early) against none.
      expect(slow?.latencyMs.p50 ?? 0).toBeGreaterThan((fast?.latencyMs.p50 ?? 0) + 3);
    }
    expect(result.groups.slow?.p50 ?? 0).toBeGreaterThan((result.groups.fast?.p50 ?? 0) + 3);
    expect(result.groups.fast?.count).toBe(result.phases.reduce((n, p) => n + (p.targets[0]?.ok ?? 0), 0));
    await expect(phasedOpenLoop([], { rate: 1, warmupSeconds: 0, phases: [] })).rejects.toThrow(RangeError);
  });

  it("stops the load and rethrows when a transition fails", async () => {
    let calls = 0;
    await expect(
      phasedOpenLoop(
        async () => {
          calls++;
          return "1";
        },
        {
          rate: 200,
          warmupSeconds: 0,
          phases: [
            {
              name: "a",
              seconds: 0.05,
              before: async () => {
                throw new Error("not applied");
              },
            },
          ],
        },
      ),
    ).rejects.toThrow("not applied");
    const after = calls;
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(after);
  });
});
