import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../core/logger.js";
import { rolloutTag } from "../../core/validation/rollout-spec.js";
import { parseRolloutStatus, type RolloutStatus, rolloutStatusTag } from "../../core/validation/rollout-status.js";
import { trafficSplitTag } from "../../core/validation/traffic-split.js";
import { RegistryEventType } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { migrate } from "../../storage/sql/migrate.js";
import { createPgliteClient } from "../../storage/sql/pglite-client.js";
import type { SqlClient } from "../../storage/sql/sql-client.js";
import { readyVersion } from "../../test/support/registry-store-contract.js";
import type { RegistryStore } from "../registry-store.js";
import { createSqlRegistryStore } from "../sql-registry-store.js";
import { createRolloutController, type RolloutController, rolloutActor } from "./rollout-controller.js";
import { createTrafficStatsWindow, type TrafficStatsWindow } from "./traffic-stats-window.js";

const logger = createLogger({ level: "silent", name: "rollout-test" });
const boundsMs = [1, 2, 5, 10, 20, 50];
const spec =
  "champion=champion,challenger=challenger,step=40,interval=1m,min_requests=10,max_error_increase=0.05,max_p99_ratio=1.5";

let client: SqlClient;
let store: RegistryStore;
let stats: TrafficStatsWindow;
let clock: number;
let controller: RolloutController;

/** One report of both versions: `errors` of `requests` failed, the rest in the latency bucket `bucket`. */
function report(version: bigint, requests: number, errors: number, bucket: number): void {
  const counts = new Array<number>(boundsMs.length + 1).fill(0);
  counts[bucket] = requests - errors;
  stats.record("m", "replica-1", [{ version, requests, errors, latency: { boundsMs, counts } }], clock);
}

const tags = async () => (await store.getModel("m")).tags;
const status = async (): Promise<RolloutStatus | undefined> => parseRolloutStatus((await tags())[rolloutStatusTag]);

// One database for the suite (PGlite takes seconds to start); each test starts from a new model "m".
beforeAll(async () => {
  client = await createPgliteClient(undefined);
  await migrate(client);
  store = createSqlRegistryStore(client);
}, 60_000);

afterAll(async () => {
  await client.close();
});

beforeEach(async () => {
  await store.deleteModel("m", "alice").catch(() => undefined);
  await store.createModel({ name: "m", description: "", tags: {} }, "alice");
  await store.createVersion(readyVersion("m"), "alice");
  await store.createVersion(readyVersion("m"), "alice");
  await store.setAlias("m", "champion", 1n, "alice");
  await store.setAlias("m", "challenger", 2n, "alice");
  stats = createTrafficStatsWindow();
  clock = 1_000_000;
  controller = createRolloutController({ store, stats, logger, tickMs: 0, now: () => clock });
});

afterEach(async () => {
  await controller.close();
});

/** Ends the current step: the clock moves past the interval and the controller looks. */
async function endStep(): Promise<void> {
  clock += 60_000;
  await controller.tick();
}

describe("rollout controller", () => {
  it("does nothing without a rollout", async () => {
    await controller.tick();
    expect(await tags()).toEqual({});
  });

  it("starts at the first step, then steps up while the challenger stays within bounds, then promotes", async () => {
    await store.setModelTag("m", rolloutTag, spec, "alice");
    await controller.tick();
    expect(await tags()).toMatchObject({ [trafficSplitTag]: "champion=60,challenger=40" });
    expect(await status()).toMatchObject({ state: "running", weight: 40, decision: "start" });

    // Before the interval ends nothing changes, whatever was reported.
    report(1n, 100, 1, 2);
    report(2n, 100, 2, 2);
    clock += 30_000;
    await controller.tick();
    expect(await status()).toMatchObject({ weight: 40, decision: "start" });

    clock += 30_000;
    await controller.tick();
    expect(await tags()).toMatchObject({ [trafficSplitTag]: "champion=20,challenger=80" });
    expect(await status()).toMatchObject({
      state: "running",
      weight: 80,
      decision: "step",
      champion: { version: "1", requests: 100, errors: 1 },
      challenger: { version: "2", requests: 100, errors: 2, errorRatio: 0.02 },
    });

    // The reports of the previous step do not count in this one.
    report(1n, 20, 0, 2);
    report(2n, 80, 0, 2);
    await endStep();
    const model = await store.getModel("m");
    expect(model.aliases).toMatchObject({ champion: 2n, challenger: 2n });
    expect(model.tags[trafficSplitTag]).toBe("champion=100");
    expect(model.tags[rolloutTag]).toBeUndefined();
    expect(await status()).toMatchObject({
      state: "succeeded",
      decision: "promote",
      champion: { requests: 20 },
      challenger: { requests: 80 },
    });
    expect((await status())?.reason).toMatch(/alias "champion" moved to version 2/);

    // Every decision is in the audit history, by the controller.
    const events = (await store.listEvents("m", 1000, "")).items.filter((e) => e.actor === rolloutActor);
    const decisions = events
      .filter((e) => e.key === rolloutStatusTag)
      .map((e) => parseRolloutStatus(e.toValue)?.decision);
    expect(decisions).toEqual(["start", "step", "promote"]);
    expect(events.some((e) => e.type === RegistryEventType.ALIAS_SET && e.alias === "champion")).toBe(true);
    // Nothing more happens once it is over.
    await endStep();
    expect((await store.listEvents("m", 1000, "")).items.filter((e) => e.actor === rolloutActor)).toHaveLength(
      events.length,
    );
  });

  it("holds a step with too few requests, and counts afresh in the next", async () => {
    await store.setModelTag("m", rolloutTag, spec, "alice");
    await controller.tick();
    report(1n, 100, 0, 2);
    report(2n, 9, 0, 2);
    await endStep();
    expect(await status()).toMatchObject({ state: "running", weight: 40, decision: "hold" });
    expect((await status())?.reason).toMatch(/too few requests.*champion 100, challenger 9, min_requests 10/);
    report(2n, 9, 0, 2);
    await endStep();
    expect(await status()).toMatchObject({ weight: 40, decision: "hold", challenger: { requests: 9 } });
  });

  it("rolls back when the challenger's error ratio is too high", async () => {
    await store.setModelTag("m", rolloutTag, spec, "alice");
    await controller.tick();
    report(1n, 100, 1, 2);
    report(2n, 100, 7, 2);
    await endStep();
    const model = await store.getModel("m");
    expect(model.tags[trafficSplitTag]).toBe("champion=100");
    expect(model.tags[rolloutTag]).toBeUndefined();
    expect(model.aliases).toMatchObject({ champion: 1n, challenger: 2n });
    expect(await status()).toMatchObject({ state: "failed", decision: "rollback", weight: 0 });
    expect((await status())?.reason).toMatch(/error ratio 0.0700 .* champion's 0.0100 by 0.0600/);
  });

  it("rolls back when the challenger's p99 is too high", async () => {
    await store.setModelTag("m", rolloutTag, spec, "alice");
    await controller.tick();
    report(1n, 100, 0, 1); // (1, 2] ms
    report(2n, 100, 0, 4); // (10, 20] ms
    await endStep();
    expect(await status()).toMatchObject({ state: "failed", decision: "rollback" });
    expect((await status())?.reason).toMatch(/p99 19.90 ms of the challenger is 10.00x the champion's 1.99 ms/);
    expect((await tags())[trafficSplitTag]).toBe("champion=100");
  });

  it("aborts when the rollout tag is deleted", async () => {
    await store.setModelTag("m", rolloutTag, spec, "alice");
    await controller.tick();
    await store.deleteModelTag("m", rolloutTag, "alice");
    await controller.tick();
    expect(await status()).toMatchObject({ state: "aborted", decision: "abort" });
    expect((await tags())[trafficSplitTag]).toBe("champion=100");
  });

  it("fails at once when an alias is missing", async () => {
    await store.setModelTag("m", rolloutTag, spec.replace("challenger=challenger", "challenger=green"), "alice");
    await controller.tick();
    expect(await status()).toMatchObject({ state: "failed", reason: 'the model has no alias "green"' });
    expect((await tags())[rolloutTag]).toBeUndefined();
  });

  it("resumes after a restart from the tags, and restores a split changed behind its back", async () => {
    await store.setModelTag("m", rolloutTag, spec, "alice");
    await controller.tick();
    await controller.close();
    // A new process: a new controller and an empty window (the reports were in memory).
    stats = createTrafficStatsWindow();
    controller = createRolloutController({ store, stats, logger, tickMs: 0, now: () => clock });
    await store.setModelTag("m", trafficSplitTag, "champion=100", "bob");
    await controller.tick();
    expect(await tags()).toMatchObject({ [trafficSplitTag]: "champion=60,challenger=40" });
    report(1n, 50, 0, 2);
    report(2n, 50, 0, 2);
    await endStep();
    expect(await status()).toMatchObject({ state: "running", weight: 80, decision: "step" });
  });

  it("starts again when a new rollout value replaces a running one", async () => {
    await store.setModelTag("m", rolloutTag, spec, "alice");
    await controller.tick();
    report(1n, 50, 0, 2);
    report(2n, 50, 0, 2);
    await endStep();
    expect(await status()).toMatchObject({ weight: 80 });
    await store.setModelTag("m", rolloutTag, spec.replace("step=40", "step=10"), "alice");
    await controller.tick();
    expect(await status()).toMatchObject({ state: "running", weight: 10, decision: "start" });
  });
});
