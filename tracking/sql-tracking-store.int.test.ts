import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commonErrors } from "../core/errors/common-errors.js";
import type { ErrorDefinition } from "../core/errors/define-error.js";
import { trackingErrors } from "../core/errors/tracking-errors.js";
import {
  LifecycleStage,
  type Metric,
  MetricSchema,
  type Param,
  ParamSchema,
  RunStatus,
  type Tag,
  TagSchema,
  ViewType,
} from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { migrate } from "../storage/sql/migrate.js";
import { createPgClient } from "../storage/sql/pg-client.js";
import { createPgliteClient } from "../storage/sql/pglite-client.js";
import type { SqlClient } from "../storage/sql/sql-client.js";
import { startPostgres, type TestPostgres } from "../test/support/postgres.js";
import { createSqlTrackingStore } from "./sql-tracking-store.js";
import type { LogBatchInput, TrackingStore } from "./tracking-store.js";

let server: TestPostgres;

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(async () => {
  await server.cleanup();
});

const drivers: { name: string; open: () => Promise<SqlClient> }[] = [
  { name: "pglite", open: () => createPgliteClient(undefined) },
  { name: "postgres", open: async () => createPgClient({ url: await server.createDatabase(), poolSize: 8 }) },
];

const root = "file:///srv/artifacts";

/** Awaits `promise` and asserts it failed with the catalogued error `def`. */
async function expectError<A extends unknown[]>(promise: Promise<unknown>, def: ErrorDefinition<A>): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${def.id}`).toBeDefined();
  expect(def.is(err), `expected ${def.id}, got ${String(err)}`).toBe(true);
}

function metric(key: string, value: number, step: bigint | number, timestamp: bigint | number): Metric {
  return create(MetricSchema, { key, value, step: BigInt(step), timestamp: BigInt(timestamp) });
}

function param(key: string, value: string): Param {
  return create(ParamSchema, { key, value });
}

function tag(key: string, value: string): Tag {
  return create(TagSchema, { key, value });
}

function batch(parts: Partial<LogBatchInput>): LogBatchInput {
  return { metrics: [], params: [], tags: [], batchId: "", ...parts };
}

let nameCounter = 0;
function uniqueName(prefix: string): string {
  nameCounter += 1;
  return `${prefix}-${nameCounter}`;
}

describe.each(drivers)("the SQL tracking store over $name", ({ open }) => {
  let store: TrackingStore;
  let sql: SqlClient;

  beforeAll(async () => {
    sql = await open();
    await migrate(sql);
    store = createSqlTrackingStore(sql, { artifactRootUri: `${root}/` });
    await store.ensureDefaultExperiment();
  });

  afterAll(async () => {
    await store.close(); // closes the SQL client too
  });

  async function newExperiment(tags: Record<string, string> = {}): Promise<string> {
    const e = await store.createExperiment({ name: uniqueName("exp"), artifactLocation: undefined, tags });
    return e.experimentId;
  }

  async function newRun(experimentId = "0"): Promise<string> {
    const run = await store.createRun({ experimentId, runName: "", startTime: 1000, tags: [] });
    return run.info?.runId ?? "";
  }

  describe("experiments", () => {
    it("has the Default experiment with id 0, created once", async () => {
      await store.ensureDefaultExperiment();
      const e = await store.getExperiment("0");
      expect(e).toMatchObject({
        experimentId: "0",
        name: "Default",
        artifactLocation: `${root}/0`,
        lifecycleStage: LifecycleStage.ACTIVE,
      });
      expect((await store.getExperimentByName("Default")).experimentId).toBe("0");
    });

    it("creates an experiment with a default or given artifact location and tags", async () => {
      const before = BigInt(Date.now());
      const name = uniqueName("created");
      const e = await store.createExperiment({ name, artifactLocation: undefined, tags: { team: "a", "k.2": "v" } });
      expect(e.experimentId).toMatch(/^[1-9]\d*$/);
      expect(e).toMatchObject({
        name,
        artifactLocation: `${root}/${e.experimentId}`,
        lifecycleStage: LifecycleStage.ACTIVE,
        tags: { team: "a", "k.2": "v" },
      });
      expect(e.creationTime).toBeGreaterThanOrEqual(before);
      expect(e.lastUpdateTime).toBe(e.creationTime);
      expect(await store.getExperiment(e.experimentId)).toEqual(e);
      expect(await store.getExperimentByName(name)).toEqual(e);

      const custom = await store.createExperiment({
        name: uniqueName("custom"),
        artifactLocation: "s3://bucket/somewhere",
        tags: {},
      });
      expect(custom.artifactLocation).toBe("s3://bucket/somewhere");
      expect(Number(custom.experimentId)).toBeGreaterThan(Number(e.experimentId));
    });

    it("rejects an active name twice, and frees a deleted experiment's name at once", async () => {
      const name = uniqueName("dup");
      const first = await store.createExperiment({ name, artifactLocation: undefined, tags: {} });
      await expectError(
        store.createExperiment({ name, artifactLocation: undefined, tags: { a: "b" } }),
        trackingErrors.experimentAlreadyExists,
      );
      await store.deleteExperiment(first.experimentId);
      const second = await store.createExperiment({ name, artifactLocation: undefined, tags: {} });
      expect(second.experimentId).not.toBe(first.experimentId);
      // By name: the active one first.
      expect((await store.getExperimentByName(name)).experimentId).toBe(second.experimentId);
      // Restoring the first now conflicts with the active name.
      await expectError(store.restoreExperiment(first.experimentId), trackingErrors.experimentAlreadyExists);
      expect((await store.getExperiment(first.experimentId)).lifecycleStage).toBe(LifecycleStage.DELETED);
      // With both deleted, by name finds the most recently deleted.
      await new Promise((resolve) => setTimeout(resolve, 2));
      await store.deleteExperiment(second.experimentId);
      expect((await store.getExperimentByName(name)).experimentId).toBe(second.experimentId);
    });

    it("answers NOT_FOUND for unknown or malformed ids and names", async () => {
      await expectError(store.getExperiment("987654321"), trackingErrors.experimentNotFound);
      await expectError(store.getExperiment("abc"), trackingErrors.experimentNotFound);
      await expectError(store.getExperiment("99999999999999999999999"), trackingErrors.experimentNotFound);
      await expectError(store.getExperiment(""), trackingErrors.experimentNotFound);
      await expectError(store.getExperimentByName("no such experiment"), trackingErrors.experimentNotFound);
      const calls = [
        () => store.renameExperiment("987654321", "x"),
        () => store.setExperimentTag("987654321", "k", "v"),
        () => store.deleteExperimentTag("987654321", "k"),
        () => store.deleteExperiment("987654321"),
        () => store.restoreExperiment("987654321"),
        () => store.purgeExperiment("987654321"),
        () => store.createRun({ experimentId: "987654321", runName: "r", startTime: 1, tags: [] }),
      ];
      for (const call of calls) await expectError(call(), trackingErrors.experimentNotFound);
    });

    it("renames an experiment; not to an active name, not when deleted", async () => {
      const id = await newExperiment();
      const taken = (await store.getExperiment(await newExperiment())).name;
      const newName = uniqueName("renamed");
      const renamed = await store.renameExperiment(id, newName);
      expect(renamed.name).toBe(newName);
      expect((await store.getExperimentByName(newName)).experimentId).toBe(id);
      await expectError(store.renameExperiment(id, taken), trackingErrors.experimentAlreadyExists);
      expect((await store.getExperiment(id)).name).toBe(newName);
      await store.deleteExperiment(id);
      await expectError(store.renameExperiment(id, uniqueName("other")), trackingErrors.experimentNotActive);
    });

    it("sets, replaces and deletes experiment tags", async () => {
      const id = await newExperiment({ keep: "1" });
      await store.setExperimentTag(id, "team", "a");
      await store.setExperimentTag(id, "team", "b");
      expect((await store.getExperiment(id)).tags).toEqual({ keep: "1", team: "b" });
      await store.deleteExperimentTag(id, "team");
      expect((await store.getExperiment(id)).tags).toEqual({ keep: "1" });
      await expectError(store.deleteExperimentTag(id, "team"), trackingErrors.tagNotFound);
      await store.deleteExperiment(id);
      await expectError(store.setExperimentTag(id, "x", "y"), trackingErrors.experimentNotActive);
      await expectError(store.deleteExperimentTag(id, "keep"), trackingErrors.experimentNotActive);
    });

    it("deletes an experiment with its active runs and restores exactly those", async () => {
      const id = await newExperiment();
      const [a, b, deletedBefore] = [await newRun(id), await newRun(id), await newRun(id)];
      await store.deleteRun(deletedBefore);
      await store.deleteExperiment(id);
      await store.deleteExperiment(id); // deleting again changes nothing
      expect((await store.getExperiment(id)).lifecycleStage).toBe(LifecycleStage.DELETED);
      for (const runId of [a, b, deletedBefore]) {
        expect((await store.getRun(runId)).info?.lifecycleStage).toBe(LifecycleStage.DELETED);
      }
      await expectError(
        store.createRun({ experimentId: id, runName: "r", startTime: 1, tags: [] }),
        trackingErrors.experimentNotActive,
      );
      await expectError(store.restoreRun(a), trackingErrors.experimentNotActive);

      await store.restoreExperiment(id);
      expect((await store.getExperiment(id)).lifecycleStage).toBe(LifecycleStage.ACTIVE);
      expect((await store.getRun(a)).info?.lifecycleStage).toBe(LifecycleStage.ACTIVE);
      expect((await store.getRun(b)).info?.lifecycleStage).toBe(LifecycleStage.ACTIVE);
      expect((await store.getRun(deletedBefore)).info?.lifecycleStage).toBe(LifecycleStage.DELETED);
      await expectError(store.restoreExperiment(id), trackingErrors.experimentNotDeleted);

      // A run deleted on its own after a restore is not brought back by the next restore.
      await store.deleteRun(b);
      await store.deleteExperiment(id);
      await store.restoreExperiment(id);
      expect((await store.getRun(a)).info?.lifecycleStage).toBe(LifecycleStage.ACTIVE);
      expect((await store.getRun(b)).info?.lifecycleStage).toBe(LifecycleStage.DELETED);
    });

    it("purges only a deleted experiment, with everything under it", async () => {
      const id = await newExperiment({ t: "1" });
      const runId = await newRun(id);
      await store.logBatch(runId, batch({ metrics: [metric("m", 1, 0, 5)], params: [param("p", "1")] }));
      await store.recordArtifact(runId, { path: "model.onnx", size: 3, sha256: "ab".repeat(32) });
      await expectError(store.purgeExperiment(id), trackingErrors.experimentNotDeleted);
      await store.deleteExperiment(id);
      expect(await store.purgeExperiment(id)).toEqual({ artifactLocation: `${root}/${id}` });
      await expectError(store.getExperiment(id), trackingErrors.experimentNotFound);
      await expectError(store.getRun(runId), trackingErrors.runNotFound);
      await expectError(store.purgeExperiment(id), trackingErrors.experimentNotFound);
      for (const table of ["metrics", "latest_metrics", "params", "run_artifacts"]) {
        const { rows } = await sql.query(`SELECT 1 FROM ${table} WHERE run_id = $1`, [runId]);
        expect(rows, table).toEqual([]);
      }
    });

    it("searches experiments and loads them in the order found", async () => {
      const tag = uniqueName("search");
      const ids = [
        await newExperiment({ group: tag }),
        await newExperiment({ group: tag }),
        await newExperiment({ group: tag }),
      ];
      const query = {
        filter: `tags.group = '${tag}'`,
        maxResults: 2,
        orderBy: ["name DESC"],
        pageToken: "",
        viewType: ViewType.ACTIVE_ONLY,
      };
      const first = await store.searchExperiments(query);
      expect(first.items.map((e) => e.experimentId)).toEqual([ids[2], ids[1]]);
      expect(first.items[0]).toEqual(await store.getExperiment(ids[2] ?? ""));
      expect(first.nextPageToken).not.toBe("");
      const second = await store.searchExperiments({ ...query, pageToken: first.nextPageToken });
      expect(second.items.map((e) => e.experimentId)).toEqual([ids[0]]);
      expect(second.nextPageToken).toBe("");
    });
  });

  describe("runs", () => {
    it("creates a run with a 32-hex id, RUNNING, under the experiment's artifact location", async () => {
      const experimentId = await newExperiment();
      const run = await store.createRun({
        experimentId,
        runName: "train",
        startTime: 1_700_000_000_000,
        tags: [tag("a", "1"), tag("a", "2")],
      });
      const runId = run.info?.runId ?? "";
      expect(runId).toMatch(/^[0-9a-f]{32}$/);
      expect(run.info).toMatchObject({
        experimentId,
        runName: "train",
        status: RunStatus.RUNNING,
        startTime: 1_700_000_000_000n,
        lifecycleStage: LifecycleStage.ACTIVE,
        artifactUri: `${root}/${experimentId}/${runId}/artifacts`,
      });
      expect(run.info?.endTime).toBeUndefined();
      expect(run.data).toMatchObject({ metrics: [], params: {}, tags: { a: "2" } });
      expect(await store.getRun(runId)).toEqual(run);
    });

    it("defaults the experiment to Default, the name to a generated one and a zero start time to now", async () => {
      const before = BigInt(Date.now());
      const run = await store.createRun({ experimentId: "", runName: "", startTime: 0, tags: [] });
      expect(run.info?.experimentId).toBe("0");
      expect(run.info?.runName).not.toBe("");
      expect(run.info?.startTime).toBeGreaterThanOrEqual(before);
    });

    it("answers NOT_FOUND for an unknown run everywhere", async () => {
      const missing = "0".repeat(32);
      await expectError(store.getRun(missing), trackingErrors.runNotFound);
      const calls = [
        () => store.updateRun(missing, { status: RunStatus.FINISHED, endTime: undefined, runName: undefined }),
        () => store.deleteRun(missing),
        () => store.restoreRun(missing),
        () => store.deleteRunTag(missing, "k"),
        () => store.logBatch(missing, batch({ metrics: [metric("m", 1, 0, 1)] })),
        () => store.logBatch(missing, batch({ batchId: "b" })),
        () => store.getMetricHistory({ runId: missing, key: "m", maxResults: 10, pageToken: "" }),
        () => store.recordArtifact(missing, { path: "f", size: 1, sha256: "0".repeat(64) }),
        () => store.getArtifact(missing, "f"),
        () => store.listArtifacts(missing, ""),
      ];
      for (const call of calls) await expectError(call(), trackingErrors.runNotFound);
    });

    it("updates status, end time and name; a terminal status without end time ends the run now", async () => {
      const runId = await newRun();
      const renamed = await store.updateRun(runId, { status: undefined, endTime: undefined, runName: "renamed" });
      expect(renamed).toMatchObject({ runName: "renamed", status: RunStatus.RUNNING });
      expect(renamed.endTime).toBeUndefined();

      const unspecified = await store.updateRun(runId, {
        status: RunStatus.UNSPECIFIED,
        endTime: undefined,
        runName: undefined,
      });
      expect(unspecified.status).toBe(RunStatus.RUNNING);

      const before = BigInt(Date.now());
      const finished = await store.updateRun(runId, {
        status: RunStatus.FINISHED,
        endTime: undefined,
        runName: undefined,
      });
      expect(finished.status).toBe(RunStatus.FINISHED);
      expect(finished.endTime).toBeGreaterThanOrEqual(before);

      const explicit = await store.updateRun(runId, { status: RunStatus.FAILED, endTime: 1234, runName: undefined });
      expect(explicit).toMatchObject({ status: RunStatus.FAILED, endTime: 1234n, runName: "renamed" });
      expect((await store.getRun(runId)).info).toEqual(explicit);
    });

    it("deletes and restores runs; a deleted run takes no writes", async () => {
      const runId = await newRun();
      await store.logBatch(runId, batch({ tags: [tag("t", "1")] }));
      await expectError(store.restoreRun(runId), trackingErrors.runNotDeleted);
      await store.deleteRun(runId);
      await store.deleteRun(runId); // deleting again changes nothing
      expect((await store.getRun(runId)).info?.lifecycleStage).toBe(LifecycleStage.DELETED);
      await expectError(store.logBatch(runId, batch({ metrics: [metric("m", 1, 0, 1)] })), trackingErrors.runNotActive);
      await expectError(
        store.updateRun(runId, { status: RunStatus.KILLED, endTime: undefined, runName: undefined }),
        trackingErrors.runNotActive,
      );
      await expectError(store.deleteRunTag(runId, "t"), trackingErrors.runNotActive);
      await expectError(
        store.recordArtifact(runId, { path: "f", size: 1, sha256: "0".repeat(64) }),
        trackingErrors.runNotActive,
      );
      await store.restoreRun(runId);
      expect((await store.getRun(runId)).info?.lifecycleStage).toBe(LifecycleStage.ACTIVE);
      await store.logBatch(runId, batch({ metrics: [metric("m", 1, 0, 1)] }));
    });

    it("deletes run tags; a missing tag is TAG_NOT_FOUND", async () => {
      const runId = await newRun();
      await store.logBatch(
        runId,
        batch({
          tags: [tag("a", "1"), tag("b", "2")],
        }),
      );
      await store.deleteRunTag(runId, "a");
      expect((await store.getRun(runId)).data?.tags).toEqual({ b: "2" });
      await expectError(store.deleteRunTag(runId, "a"), trackingErrors.tagNotFound);
    });

    it("searches runs and loads them with their data in the order found", async () => {
      const experimentId = await newExperiment();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const run = await store.createRun({ experimentId, runName: `r${i}`, startTime: 1000 + i, tags: [] });
        const runId = run.info?.runId ?? "";
        ids.push(runId);
        await store.logBatch(runId, batch({ metrics: [metric("acc", i / 10, 0, 1)], params: [param("i", String(i))] }));
      }
      const query = {
        experimentIds: [experimentId],
        filter: "metrics.acc >= 0.1",
        viewType: ViewType.ACTIVE_ONLY,
        maxResults: 1,
        orderBy: ["metrics.acc DESC"],
        pageToken: "",
      };
      const first = await store.searchRuns(query);
      expect(first.items.map((r) => r.info?.runId)).toEqual([ids[2]]);
      expect(first.items[0]).toEqual(await store.getRun(ids[2] ?? ""));
      const second = await store.searchRuns({ ...query, pageToken: first.nextPageToken });
      expect(second.items.map((r) => r.data?.params)).toEqual([{ i: "1" }]);
      const all = await store.searchRuns({ ...query, filter: "", maxResults: 10, orderBy: [] });
      expect(all.items.map((r) => r.info?.runId)).toEqual([...ids].reverse()); // start_time DESC
      expect(all.nextPageToken).toBe("");
    });
  });

  describe("logBatch", () => {
    it("stores metrics, params and tags, and getRun shows the latest metric values", async () => {
      const runId = await newRun();
      const result = await store.logBatch(
        runId,
        batch({
          metrics: [metric("loss", 0.9, 0, 10), metric("loss", 0.5, 1, 11), metric("acc", 0.7, 0, 10)],
          params: [param("lr", "0.1"), param("epochs", "3")],
          tags: [tag("team", "x")],
        }),
      );
      expect(result).toEqual({ duplicate: false });
      const run = await store.getRun(runId);
      expect(run.data?.params).toEqual({ epochs: "3", lr: "0.1" });
      expect(run.data?.tags).toEqual({ team: "x" });
      expect(run.data?.metrics.map((m) => [m.key, m.value, m.step, m.timestamp])).toEqual([
        ["acc", 0.7, 0n, 10n],
        ["loss", 0.5, 1n, 11n],
      ]);
    });

    it("keeps as latest the highest step, then timestamp, then the last logged", async () => {
      const runId = await newRun();
      await store.logBatch(runId, batch({ metrics: [metric("m", 5, 5, 100)] }));
      await store.logBatch(runId, batch({ metrics: [metric("m", 4, 4, 999)] })); // lower step: ignored
      expect((await store.getRun(runId)).data?.metrics[0]).toMatchObject({ value: 5, step: 5n });
      await store.logBatch(runId, batch({ metrics: [metric("m", 6, 5, 101), metric("m", 7, 5, 100)] }));
      expect((await store.getRun(runId)).data?.metrics[0]).toMatchObject({ value: 6, step: 5n, timestamp: 101n });
      await store.logBatch(runId, batch({ metrics: [metric("m", 8, 5, 101), metric("m", 9, 5, 101)] })); // ties: last
      expect((await store.getRun(runId)).data?.metrics[0]).toMatchObject({ value: 9 });
      await store.logBatch(runId, batch({ metrics: [metric("m", 10, 5, 101)] })); // tie across batches: last
      expect((await store.getRun(runId)).data?.metrics[0]).toMatchObject({ value: 10 });
    });

    it("round-trips NaN, ±Infinity and extreme int64 steps and timestamps exactly", async () => {
      const runId = await newRun();
      const big = 2n ** 62n + 7n;
      const values = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5e-324, Number.MAX_VALUE];
      await store.logBatch(runId, batch({ metrics: values.map((v, i) => metric("special", v, i, 1)) }));
      await store.logBatch(
        runId,
        batch({ metrics: [metric("nan", Number.NaN, big, big), metric("neg", -1, -big, 1)] }),
      );
      const history = await store.getMetricHistory({ runId, key: "special", maxResults: 100, pageToken: "" });
      expect(history.items.map((m) => m.value)).toEqual(values);
      const latest = (await store.getRun(runId)).data?.metrics ?? [];
      expect(latest.find((m) => m.key === "nan")).toMatchObject({ step: big, timestamp: big });
      expect(latest.find((m) => m.key === "nan")?.value).toBeNaN();
      expect(latest.find((m) => m.key === "neg")?.step).toBe(-big);
      expect(latest.find((m) => m.key === "special")?.value).toBe(Number.MAX_VALUE);
    });

    it("stamps a zero timestamp with the time of logging", async () => {
      const runId = await newRun();
      const before = BigInt(Date.now());
      await store.logBatch(runId, batch({ metrics: [metric("m", 1, 0, 0)] }));
      const [point] = (await store.getMetricHistory({ runId, key: "m", maxResults: 10, pageToken: "" })).items;
      expect(point?.timestamp).toBeGreaterThanOrEqual(before);
      expect(point?.timestamp).toBeLessThanOrEqual(BigInt(Date.now()));
    });

    it("accepts a param again with the same value and rejects a different one", async () => {
      const runId = await newRun();
      await store.logBatch(runId, batch({ params: [param("lr", "0.1")] }));
      await store.logBatch(runId, batch({ params: [param("lr", "0.1")] }));
      const err = await store.logBatch(runId, batch({ params: [param("lr", "0.2")] })).catch((e: unknown) => e);
      expect(trackingErrors.paramChanged.is(err)).toBe(true);
      expect(err).toMatchObject({ field: "params.lr" });
      expect((err as Error).message).toContain('"0.1"');
      await expectError(
        store.logBatch(
          runId,
          batch({
            params: [param("x", "1"), param("x", "2")],
          }),
        ),
        trackingErrors.paramChanged,
      );
      expect((await store.getRun(runId)).data?.params).toEqual({ lr: "0.1" });
    });

    it("stores all of a batch or nothing: a changed param keeps out its metrics, tags and batch id", async () => {
      const runId = await newRun();
      await store.logBatch(runId, batch({ params: [param("lr", "0.1")] }));
      const failing = batch({
        batchId: "retry-me",
        metrics: Array.from({ length: 50 }, (_, i) => metric("loss", i, i, 1)),
        params: [param("fresh", "1"), param("lr", "0.5")],
        tags: [tag("t", "v")],
      });
      await expectError(store.logBatch(runId, failing), trackingErrors.paramChanged);
      const run = await store.getRun(runId);
      expect(run.data).toMatchObject({ metrics: [], params: { lr: "0.1" }, tags: {} });
      expect((await store.getMetricHistory({ runId, key: "loss", maxResults: 100, pageToken: "" })).items).toEqual([]);
      // The batch id was not consumed: the corrected retry is stored.
      const fixed = { ...failing, params: [param("fresh", "1")] };
      expect(await store.logBatch(runId, fixed)).toEqual({ duplicate: false });
      expect((await store.getMetricHistory({ runId, key: "loss", maxResults: 100, pageToken: "" })).items).toHaveLength(
        50,
      );
    });

    it("acknowledges a retried batch id without storing it twice", async () => {
      const runId = await newRun();
      const b = batch({ batchId: "batch-1", metrics: [metric("m", 1, 0, 1)], tags: [tag("t", "1")] });
      expect(await store.logBatch(runId, b)).toEqual({ duplicate: false });
      expect(await store.logBatch(runId, { ...b, tags: [tag("t", "2")] })).toEqual({ duplicate: true });
      expect((await store.getMetricHistory({ runId, key: "m", maxResults: 10, pageToken: "" })).items).toHaveLength(1);
      expect((await store.getRun(runId)).data?.tags).toEqual({ t: "1" });
      // Batch ids are per run.
      const other = await newRun();
      expect(await store.logBatch(other, b)).toEqual({ duplicate: false });
    });

    it("stores one of two concurrent identical batches", async () => {
      const runId = await newRun();
      const b = batch({
        batchId: "concurrent",
        metrics: Array.from({ length: 200 }, (_, i) => metric("m", i, i, 1)),
        params: [param("p", "1")],
      });
      const results = await Promise.all([store.logBatch(runId, b), store.logBatch(runId, b), store.logBatch(runId, b)]);
      expect(results.map((r) => r.duplicate).sort()).toEqual([false, true, true]);
      expect((await store.getMetricHistory({ runId, key: "m", maxResults: 1000, pageToken: "" })).items).toHaveLength(
        200,
      );
    });

    it("takes concurrent batches that share keys in any order without deadlock", async () => {
      const runId = await newRun();
      const keys = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, "0")}`);
      const forward = batch({ params: keys.map((k) => param(k, "same")), tags: keys.map((k) => tag(k, "f")) });
      const backward = batch({
        params: [...keys].reverse().map((k) => param(k, "same")),
        tags: [...keys].reverse().map((k) => tag(k, "b")),
      });
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.logBatch(runId, i % 2 === 0 ? forward : backward)),
      );
      expect(results.every((r) => !r.duplicate)).toBe(true);
      expect(Object.keys((await store.getRun(runId)).data?.params ?? {})).toEqual(keys);
    });

    it("keeps the latest point right under concurrent batches of one run", async () => {
      const runId = await newRun();
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.logBatch(runId, batch({ metrics: ["a", "b", "c"].map((k) => metric(k, i, i, 1)) })),
        ),
      );
      const latest = (await store.getRun(runId)).data?.metrics ?? [];
      expect(latest.map((m) => [m.key, m.value])).toEqual([
        ["a", 7],
        ["b", 7],
        ["c", 7],
      ]);
    });
  });

  describe("getMetricHistory", () => {
    it("pages through every point in (step, timestamp, insertion) order", async () => {
      const runId = await newRun();
      await store.logBatch(
        runId,
        batch({ metrics: [metric("m", 1, 2, 5), metric("m", 2, 1, 9), metric("m", 3, 1, 3)] }),
      );
      await store.logBatch(
        runId,
        batch({ metrics: [metric("m", 4, 1, 3), metric("m", 5, 0, 1), metric("other", 0, 0, 1)] }),
      );
      await store.logBatch(runId, batch({ metrics: [metric("m", 6, 2, 5), metric("m", 7, 3, 0 + 1)] }));
      const seen: number[] = [];
      let pageToken = "";
      let pages = 0;
      do {
        const page = await store.getMetricHistory({ runId, key: "m", maxResults: 3, pageToken });
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((m) => m.value));
        pageToken = page.nextPageToken;
        pages += 1;
      } while (pageToken !== "");
      expect(seen).toEqual([5, 3, 4, 2, 1, 6, 7]);
      expect(pages).toBe(3);
      const exact = await store.getMetricHistory({ runId, key: "other", maxResults: 1, pageToken: "" });
      expect(exact).toMatchObject({ nextPageToken: "" });
      expect(exact.items).toHaveLength(1);
    });

    it("returns nothing for a key never logged to an existing run", async () => {
      const runId = await newRun();
      expect(await store.getMetricHistory({ runId, key: "none", maxResults: 10, pageToken: "" })).toEqual({
        items: [],
        nextPageToken: "",
      });
    });

    it("rejects a malformed page token or one of another run or key", async () => {
      const runId = await newRun();
      await store.logBatch(runId, batch({ metrics: [metric("m", 1, 0, 1), metric("m", 2, 1, 1)] }));
      const { nextPageToken } = await store.getMetricHistory({ runId, key: "m", maxResults: 1, pageToken: "" });
      expect(nextPageToken).toMatch(/^[A-Za-z0-9_-]+$/);
      const forged = Buffer.from(JSON.stringify([runId, "m", "99999999999999999999", "0", "0"])).toString("base64url");
      for (const pageToken of ["not a token", "e30", forged]) {
        await expectError(
          store.getMetricHistory({ runId, key: "m", maxResults: 1, pageToken }),
          commonErrors.invalidPageToken,
        );
      }
      await expectError(
        store.getMetricHistory({ runId, key: "other", maxResults: 1, pageToken: nextPageToken }),
        commonErrors.invalidPageToken,
      );
      const otherRun = await newRun();
      await expectError(
        store.getMetricHistory({ runId: otherRun, key: "m", maxResults: 1, pageToken: nextPageToken }),
        commonErrors.invalidPageToken,
      );
    });
  });

  describe("artifact index", () => {
    it("records, replaces, gets and lists files with synthesized directories", async () => {
      const runId = await newRun();
      const sha = (c: string): string => c.repeat(64);
      const files = [
        ["model/model.onnx", 100, "a"],
        ["model/meta/info.json", 5, "b"],
        ["README.md", 7, "c"],
        ["data/50%_done.csv", 9, "d"],
        ["data_x/file", 1, "e"],
        ["model/meta/deep/er.txt", 2, "f"],
      ] as const;
      for (const [path, size, c] of files) await store.recordArtifact(runId, { path, size, sha256: sha(c) });
      await store.recordArtifact(runId, { path: "README.md", size: 8, sha256: sha("9") });

      expect(await store.getArtifact(runId, "README.md")).toMatchObject({
        path: "README.md",
        isDir: false,
        fileSize: 8n,
        sha256: sha("9"),
      });
      expect(await store.getArtifact(runId, "missing.txt")).toBeUndefined();
      expect(await store.getArtifact(runId, "model")).toBeUndefined();

      const list = async (dir: string) =>
        (await store.listArtifacts(runId, dir)).map((f) => [f.path, f.isDir, f.fileSize, f.sha256]);
      expect(await list("")).toEqual([
        ["README.md", false, 8n, sha("9")],
        ["data", true, 0n, ""],
        ["data_x", true, 0n, ""],
        ["model", true, 0n, ""],
      ]);
      expect(await list("model")).toEqual([
        ["model/meta", true, 0n, ""],
        ["model/model.onnx", false, 100n, sha("a")],
      ]);
      expect(await list("model/")).toEqual(await list("model"));
      expect(await list("model/meta")).toEqual([
        ["model/meta/deep", true, 0n, ""],
        ["model/meta/info.json", false, 5n, sha("b")],
      ]);
      expect(await list("data")).toEqual([["data/50%_done.csv", false, 9n, sha("d")]]);
      expect(await list("dat")).toEqual([]);
      expect(await list("README.md")).toEqual([]);
      expect(await list("nowhere")).toEqual([]);
    });

    it("answers the registry's run-artifact lookup, deleted runs included", async () => {
      const runId = await newRun();
      await store.recordArtifact(runId, { path: "model/model.onnx", size: 42, sha256: "c".repeat(64) });
      const run = await store.getRun(runId);
      expect(await store.findRunArtifact(runId, "model/model.onnx")).toEqual({
        artifactUri: run.info?.artifactUri,
        file: { size: 42, sha256: "c".repeat(64) },
      });
      expect(await store.findRunArtifact(runId, "model")).toEqual({
        artifactUri: run.info?.artifactUri,
        file: undefined,
      });
      await store.deleteRun(runId);
      expect((await store.findRunArtifact(runId, "model/model.onnx"))?.file?.size).toBe(42);
      expect(await store.findRunArtifact("f".repeat(32), "model/model.onnx")).toBeUndefined();
    });
  });
});
