import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commonErrors } from "../../core/errors/common-errors.js";
import type { MlpipeError } from "../../core/errors/mlpipe-error.js";
import { trackingErrors } from "../../core/errors/tracking-errors.js";
import { ViewType } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { maxFilterComparisons, parseFilter } from "../../storage/query/filter-parser.js";
import { maxJoinableSubqueries } from "../../storage/query/filter-sql.js";
import { parseOrderBy } from "../../storage/query/order-by.js";
import { buildSearchSql } from "../../storage/query/search-sql.js";
import { migrate } from "../../storage/sql/migrate.js";
import type { SqlClient } from "../../storage/sql/sql-client.js";
import { type SeedRun, seedExperiment, seedRun } from "../../test/support/search-test-seed.js";
import { sqlDrivers } from "../../test/support/sql-drivers.js";
import type { SearchRunsQuery } from "../tracking-store.js";
import { searchRunIds } from "./run-search.js";
import { runSearchSpec } from "./run-search-spec.js";

let db: SqlClient;

// Experiment 1 holds r01-r07 and r09 (r07 deleted); experiment 2 holds r08.
const runs: SeedRun[] = [
  {
    runId: "r01",
    experimentId: "1",
    runName: "alpha",
    status: "FINISHED",
    startTime: 1000,
    endTime: 2000,
    metrics: { acc: 0.9, loss: 0.1 },
    params: { lr: "0.1", opt: "adam" },
    tags: { team: "vision" },
  },
  {
    runId: "r02",
    experimentId: "1",
    runName: "beta",
    status: "FAILED",
    startTime: 2000,
    metrics: { acc: 0.5, loss: "NaN" },
    params: { lr: "0.01", opt: "sgd" },
    tags: { team: "nlp" },
  },
  {
    runId: "r03",
    experimentId: "1",
    runName: "gamma",
    status: "RUNNING",
    startTime: 3000,
    metrics: { acc: "NaN", loss: 0.3 },
    params: { lr: "0.1" },
    tags: { team: "Vision" },
  },
  {
    runId: "r04",
    experimentId: "1",
    runName: "Alpha-2",
    status: "FINISHED",
    startTime: 4000,
    endTime: 5000,
    metrics: { acc: -1.5 },
    params: { lr: "1e-3", opt: "adam" },
  },
  {
    runId: "r05",
    experimentId: "1",
    runName: "delta",
    status: "KILLED",
    startTime: 5000,
    endTime: 6000,
    metrics: { loss: 0.2 },
    params: { opt: "ADAM" },
    tags: { team: "nlp" },
  },
  {
    runId: "r06",
    experimentId: "1",
    runName: "eps",
    status: "FINISHED",
    startTime: 6000,
    endTime: 7000,
    metrics: { acc: 0.9, loss: "Infinity" },
    params: { lr: "0.1", opt: "sgd" },
    tags: { team: "vision" },
  },
  {
    runId: "r07",
    experimentId: "1",
    runName: "zeta",
    status: "FINISHED",
    startTime: 7000,
    deleted: true,
    metrics: { acc: 0.7 },
    params: { lr: "0.2" },
  },
  {
    runId: "r08",
    experimentId: "2",
    runName: "eta",
    startTime: 8000,
    metrics: { acc: 0.95 },
    params: { lr: "0.1" },
    tags: { team: "vision" },
  },
  {
    runId: "r09",
    experimentId: "1",
    runName: "theta",
    status: "SCHEDULED",
    startTime: 1000,
    metrics: { acc: 0.5 },
    params: { lr: "0.3" },
  },
];

/** A fresh database of each driver; the suites run one after the other, each setting `db`. */
const { drivers, closeAll } = sqlDrivers();
afterAll(closeAll);

/** Opens the driver's database and writes the fixtures. */
async function setUp(open: () => Promise<SqlClient>): Promise<void> {
  db = await open();
  await migrate(db);
  for (const id of ["1", "2", "3", "4"]) await seedExperiment(db, { id, name: `exp-${id}`, creationTime: Number(id) });
  for (const run of runs) await seedRun(db, run);
}

function query(overrides: Partial<SearchRunsQuery> = {}): SearchRunsQuery {
  return {
    experimentIds: ["1"],
    filter: "",
    viewType: ViewType.UNSPECIFIED,
    maxResults: 0,
    orderBy: [],
    pageToken: "",
    ...overrides,
  };
}

/** The ids matching a filter, sorted (for set comparisons). */
async function matching(filter: string, overrides: Partial<SearchRunsQuery> = {}): Promise<string[]> {
  const page = await searchRunIds(db, query({ filter, ...overrides }));
  expect(page.nextPageToken).toBe("");
  return [...page.runIds].sort();
}

/** The ids in search order. */
async function ordered(orderBy: string[], filter = "", experimentIds = ["1"]): Promise<string[]> {
  return (await searchRunIds(db, query({ orderBy, filter, experimentIds }))).runIds;
}

/** Reads every page of a search with `pageSize`, returning the ids in order. */
async function allPages(
  q: SearchRunsQuery,
  pageSize: number,
  between?: (page: number) => Promise<void>,
): Promise<string[]> {
  const ids: string[] = [];
  let token = "";
  for (let page = 0; page < 1000; page++) {
    const result = await searchRunIds(db, { ...q, maxResults: pageSize, pageToken: token });
    expect(result.runIds.length).toBeLessThanOrEqual(pageSize);
    ids.push(...result.runIds);
    if (result.nextPageToken === "") return ids;
    token = result.nextPageToken;
    await between?.(page);
  }
  throw new Error("pagination did not end");
}

async function rejection(promise: Promise<unknown>): Promise<MlpipeError> {
  try {
    await promise;
  } catch (err) {
    return err as MlpipeError;
  }
  throw new Error("expected the search to fail");
}

describe.each(drivers)("searchRunIds over $name", ({ open }) => {
  beforeAll(() => setUp(open));

  describe("searchRunIds filters", () => {
    it("compares metrics with every operator; NaN matches no comparison", async () => {
      expect(await matching("metrics.acc = 0.9")).toEqual(["r01", "r06"]);
      expect(await matching("metrics.acc != 0.9")).toEqual(["r02", "r04", "r09"]);
      expect(await matching("metrics.acc <> 0.9")).toEqual(["r02", "r04", "r09"]);
      expect(await matching("metrics.acc < 0.5")).toEqual(["r04"]);
      expect(await matching("metrics.acc <= 0.5")).toEqual(["r02", "r04", "r09"]);
      expect(await matching("metrics.acc > 0.5")).toEqual(["r01", "r06"]);
      expect(await matching("metrics.acc >= 0.9")).toEqual(["r01", "r06"]);
      expect(await matching("metrics.acc >= -1.5e0")).toEqual(["r01", "r02", "r04", "r06", "r09"]);
      expect(await matching("metrics.acc IN (0.5, -1.5)")).toEqual(["r02", "r04", "r09"]);
      expect(await matching("metrics.acc NOT IN (0.9)")).toEqual(["r02", "r04", "r09"]);
      expect(await matching("metrics.acc IS NULL")).toEqual(["r05"]);
      expect(await matching("metrics.acc IS NOT NULL")).toEqual(["r01", "r02", "r03", "r04", "r06", "r09"]);
      expect(await matching("metrics.loss > 0.15")).toEqual(["r03", "r05", "r06"]);
      expect(await matching("metrics.missing > 0")).toEqual([]);
    });

    it("compares params with =, !=, LIKE, ILIKE, their negations, IN and NOT IN; missing keys never match", async () => {
      expect(await matching("params.lr = '0.1'")).toEqual(["r01", "r03", "r06"]);
      expect(await matching('params.lr != "0.1"')).toEqual(["r02", "r04", "r09"]);
      expect(await matching("params.lr LIKE '0.%'")).toEqual(["r01", "r02", "r03", "r06", "r09"]);
      expect(await matching("params.lr NOT LIKE '0.%'")).toEqual(["r04"]);
      expect(await matching("params.lr IN ('0.01', '1e-3')")).toEqual(["r02", "r04"]);
      expect(await matching("params.lr NOT IN ('0.1')")).toEqual(["r02", "r04", "r09"]);
      expect(await matching("params.lr IS NULL")).toEqual(["r05"]);
      expect(await matching("params.opt LIKE 'adam'")).toEqual(["r01", "r04"]);
      expect(await matching("params.opt ILIKE 'adam'")).toEqual(["r01", "r04", "r05"]);
      expect(await matching("params.opt NOT ILIKE 'ADAM'")).toEqual(["r02", "r06"]);
      expect(await matching("params.opt ILIKE '_D%'")).toEqual(["r01", "r04", "r05"]);
    });

    it("compares tags the same way", async () => {
      expect(await matching("tags.team = 'vision'")).toEqual(["r01", "r06"]);
      expect(await matching("tags.team ILIKE 'vision'")).toEqual(["r01", "r03", "r06"]);
      expect(await matching("tags.team != 'vision'")).toEqual(["r02", "r03", "r05"]);
      expect(await matching("tags.team NOT ILIKE 'VISION'")).toEqual(["r02", "r05"]);
      expect(await matching("tags.team IN ('nlp', 'Vision')")).toEqual(["r02", "r03", "r05"]);
      expect(await matching("tags.team NOT IN ('nlp')")).toEqual(["r01", "r03", "r06"]);
      expect(await matching("tags.team IS NULL")).toEqual(["r04", "r09"]);
      expect(await matching("tags.team IS NOT NULL")).toEqual(["r01", "r02", "r03", "r05", "r06"]);
    });

    it("compares attributes", async () => {
      expect(await matching("run_name = 'alpha'")).toEqual(["r01"]);
      expect(await matching("attributes.run_name LIKE 'alpha%'")).toEqual(["r01"]);
      expect(await matching("`Run name` ILIKE 'alpha%'")).toEqual(["r01", "r04"]);
      expect(await matching("run_name != 'alpha'")).toEqual(["r02", "r03", "r04", "r05", "r06", "r09"]);
      expect(await matching("status = 'FINISHED'")).toEqual(["r01", "r04", "r06"]);
      expect(await matching("status IN ('running', 'scheduled')")).toEqual(["r03", "r09"]);
      expect(await matching("status != 'FINISHED'")).toEqual(["r02", "r03", "r05", "r09"]);
      expect(await matching("status NOT IN ('FINISHED', 'FAILED')")).toEqual(["r03", "r05", "r09"]);
      expect(await matching("start_time >= 5000")).toEqual(["r05", "r06"]);
      expect(await matching("start_time < 2000")).toEqual(["r01", "r09"]);
      expect(await matching("attributes.start_time = 1000")).toEqual(["r01", "r09"]);
      expect(await matching("end_time IS NULL")).toEqual(["r02", "r03", "r09"]);
      expect(await matching("end_time IS NOT NULL")).toEqual(["r01", "r04", "r05", "r06"]);
      expect(await matching("end_time > 5000")).toEqual(["r05", "r06"]);
      expect(await matching("end_time <= 5000")).toEqual(["r01", "r04"]);
      expect(await matching("run_id = 'r03'")).toEqual(["r03"]);
      expect(await matching("run_id IN ('r01', 'r07', 'r08')")).toEqual(["r01"]);
    });

    it("combines with AND over OR and with parentheses", async () => {
      expect(await matching("metrics.acc > 0.8 OR params.opt = 'sgd'")).toEqual(["r01", "r02", "r06"]);
      expect(await matching("tags.team = 'nlp' AND metrics.acc > 0.8 OR params.opt = 'sgd'")).toEqual(["r02", "r06"]);
      expect(await matching("tags.team = 'nlp' AND (metrics.acc > 0.8 OR params.opt = 'sgd')")).toEqual(["r02"]);
      expect(
        await matching("(status = 'FINISHED' OR status = 'KILLED') and (params.lr = '0.1' or tags.team = 'nlp')"),
      ).toEqual(["r01", "r05", "r06"]);
      expect(await matching("metrics.acc >= 0.5 AND metrics.acc <= 0.5")).toEqual(["r02", "r09"]);
    });

    it("treats quotes in values and keys as data, never as SQL", async () => {
      expect(await matching("params.lr = '''; DROP TABLE runs; --'")).toEqual([]);
      expect(await matching("params.`lr'; DROP TABLE runs; --` = 'x'")).toEqual([]);
      expect(await matching("run_id = 'r01'' OR ''1''=''1'")).toEqual([]);
      expect(await matching("")).toHaveLength(7);
      expect(await matching("params.lr LIKE '0\\.1'")).toEqual(["r01", "r03", "r06"]);
      expect(await matching("params.lr LIKE '0.1\\%'")).toEqual([]);
      expect(await matching("params.lr LIKE '0\\\\%'")).toEqual([]);
    });

    it("selects by view type and experiments", async () => {
      expect(await matching("", { viewType: ViewType.DELETED_ONLY })).toEqual(["r07"]);
      expect(await matching("", { viewType: ViewType.ALL })).toHaveLength(8);
      expect(await matching("", { viewType: ViewType.ACTIVE_ONLY })).toHaveLength(7);
      expect(await matching("", { experimentIds: ["2"] })).toEqual(["r08"]);
      expect(await matching("params.lr = '0.1'", { experimentIds: ["1", "2", "2"] })).toEqual([
        "r01",
        "r03",
        "r06",
        "r08",
      ]);
      expect(await matching("", { experimentIds: ["3"] })).toEqual([]);
    });
  });

  describe("searchRunIds order", () => {
    it("orders by start_time DESC then run_id by default", async () => {
      expect(await ordered([])).toEqual(["r06", "r05", "r04", "r03", "r02", "r01", "r09"]);
    });

    it("sorts numbers, then NaN, then missing metrics, in both directions", async () => {
      expect(await ordered(["metrics.acc DESC"])).toEqual(["r01", "r06", "r02", "r09", "r04", "r03", "r05"]);
      expect(await ordered(["metrics.acc ASC"])).toEqual(["r04", "r02", "r09", "r01", "r06", "r03", "r05"]);
      expect(await ordered(["metrics.loss DESC"])).toEqual(["r06", "r03", "r05", "r01", "r02", "r04", "r09"]);
      expect(await ordered(["metrics.loss"])).toEqual(["r01", "r05", "r03", "r06", "r02", "r04", "r09"]);
    });

    it("keeps that order when the filter constrains the ordered metric", async () => {
      expect(await ordered(["metrics.acc DESC"], "metrics.acc >= 0.5")).toEqual(["r01", "r06", "r02", "r09"]);
      expect(await ordered(["metrics.acc"], "metrics.acc IS NOT NULL")).toEqual([
        "r04",
        "r02",
        "r09",
        "r01",
        "r06",
        "r03",
      ]);
      expect(await ordered(["params.lr DESC"], "params.lr LIKE '0.%' AND params.lr != '0.3'")).toEqual([
        "r01",
        "r03",
        "r06",
        "r02",
      ]);
    });

    it("sorts missing params, tags and end times last in both directions", async () => {
      expect(await ordered(["params.lr"])).toEqual(["r02", "r01", "r03", "r06", "r09", "r04", "r05"]);
      expect(await ordered(["params.lr DESC"])).toEqual(["r04", "r09", "r01", "r03", "r06", "r02", "r05"]);
      expect(await ordered(["end_time"])).toEqual(["r01", "r04", "r05", "r06", "r02", "r03", "r09"]);
      expect(await ordered(["attributes.end_time DESC"])).toEqual(["r06", "r05", "r04", "r01", "r02", "r03", "r09"]);
    });

    it("orders by several keys, run_id last", async () => {
      expect(await ordered(["params.lr", "metrics.loss DESC"])).toEqual([
        "r02",
        "r06",
        "r03",
        "r01",
        "r09",
        "r04",
        "r05",
      ]);
      expect(await ordered(["run_name"], "run_name != 'Alpha-2'")).toEqual(["r01", "r02", "r05", "r06", "r03", "r09"]);
      expect(await ordered(["status DESC", "start_time"], "status IN ('FINISHED', 'SCHEDULED')")).toEqual([
        "r09",
        "r01",
        "r04",
        "r06",
      ]);
    });
  });

  describe("searchRunIds pagination", () => {
    const searches: Partial<SearchRunsQuery>[] = [
      {},
      { orderBy: ["metrics.acc DESC"] },
      { orderBy: ["metrics.loss"] },
      { orderBy: ["metrics.acc DESC"], filter: "metrics.acc >= 0.5" },
      { orderBy: ["params.lr DESC", "metrics.loss DESC"] },
      { orderBy: ["tags.team", "end_time DESC", "start_time"] },
      { orderBy: ["run_id DESC"], filter: "metrics.acc > 0 OR tags.team = 'nlp'", viewType: ViewType.ALL },
      { orderBy: ["start_time"], experimentIds: ["1", "2"] },
    ];

    it.each(searches)("reads every page of %j to the same list as one page", async (overrides) => {
      const q = query(overrides);
      const whole = (await searchRunIds(db, q)).runIds;
      expect(whole.length).toBeGreaterThan(2);
      for (const size of [1, 2, 3]) expect(await allPages(q, size)).toEqual(whole);
    });

    it("resumes exactly after doubles whose text output would be rounded", async () => {
      const values = [0.1 + 0.2, 0.3, 1 / 3, 5e-324, -0, 0, 1e300, -1e-300, 0.1 + 0.2, 2 / 3, 1e-7, 1 / 3 + 1e-16];
      for (const [i, v] of values.entries()) {
        await seedRun(db, { runId: `f${String(i).padStart(2, "0")}`, experimentId: "4", startTime: i, metrics: { v } });
      }
      // Rounds float8 text output to 12 digits on this session (every session, on PGlite).
      await db.query("SET extra_float_digits = -3");
      try {
        for (const orderBy of [["metrics.v DESC"], ["metrics.v"]]) {
          const q = query({ experimentIds: ["4"], orderBy, filter: "metrics.v > -1" });
          const whole = (await searchRunIds(db, q)).runIds;
          expect(whole).toHaveLength(values.length);
          for (const size of [1, 2]) expect(await allPages(q, size)).toEqual(whole);
        }
      } finally {
        await db.query("SET extra_float_digits = 1");
      }
    });

    it("returns no token on an exactly full last page", async () => {
      const page = await searchRunIds(db, query({ maxResults: 7 }));
      expect(page.runIds).toHaveLength(7);
      expect(page.nextPageToken).toBe("");
    });

    it("neither repeats nor skips pre-existing runs when runs are inserted between pages", async () => {
      const before: SeedRun[] = [];
      for (let i = 0; i < 12; i++) {
        before.push({
          runId: `p${String(i).padStart(2, "0")}`,
          experimentId: "3",
          startTime: 1000 * (i % 4),
          metrics: i % 5 === 4 ? {} : { m: i % 3 === 0 ? "NaN" : (i % 4) / 2 },
        });
      }
      for (const run of before) await seedRun(db, run);
      let inserted = 0;
      const insertSome = async (page: number): Promise<void> => {
        if (page >= 3) return;
        // Runs that sort before, among (ties on every key) and after the rows already read.
        for (const [start, metric] of [
          [5000, 2],
          [1000, 0.5],
          [0, "NaN"],
          [2000, undefined],
          [1000, 1],
        ] as const) {
          const id = `q${String(inserted++).padStart(3, "0")}`;
          await seedRun(db, {
            runId: id,
            experimentId: "3",
            startTime: start,
            metrics: metric === undefined ? {} : { m: metric },
          });
          await seedRun(db, {
            runId: `p${String(inserted).padStart(2, "0")}x`,
            experimentId: "3",
            startTime: start,
            metrics: metric === undefined ? {} : { m: metric },
          });
        }
      };
      for (const orderBy of [[], ["metrics.m DESC"], ["metrics.m", "start_time DESC"]]) {
        const read = await allPages(query({ experimentIds: ["3"], orderBy }), 2, insertSome);
        expect(new Set(read).size, `no duplicates for ${JSON.stringify(orderBy)}`).toBe(read.length);
        for (const run of before)
          expect(
            read.filter((id) => id === run.runId),
            run.runId,
          ).toHaveLength(1);
      }
      expect(inserted).toBeGreaterThan(0);
    });

    it("rejects a page token used with another query, and accepts a new page size", async () => {
      const q = query({ orderBy: ["metrics.acc DESC"], filter: "metrics.acc IS NOT NULL", maxResults: 2 });
      const first = await searchRunIds(db, q);
      expect(first.nextPageToken).not.toBe("");
      const token = first.nextPageToken;
      expect((await searchRunIds(db, { ...q, pageToken: token, maxResults: 3 })).runIds).toEqual(["r02", "r09", "r04"]);
      const others: Partial<SearchRunsQuery>[] = [
        { filter: "metrics.acc IS NOT NULL AND metrics.acc > 0" },
        { filter: "" },
        { orderBy: ["metrics.acc ASC"] },
        { orderBy: ["metrics.acc DESC", "start_time"] },
        { experimentIds: ["1", "2"] },
        { viewType: ViewType.ALL },
      ];
      for (const other of others) {
        const err = await rejection(searchRunIds(db, { ...q, ...other, pageToken: token }));
        expect(commonErrors.invalidPageToken.is(err), JSON.stringify(other)).toBe(true);
      }
      const tampered = Buffer.from(
        Buffer.from(token, "base64url").toString("utf8").replace('"0.9"', '"0.8"'),
        "utf8",
      ).toString("base64url");
      expect(tampered).not.toBe(token);
      expect(commonErrors.invalidPageToken.is(await rejection(searchRunIds(db, { ...q, pageToken: tampered })))).toBe(
        true,
      );
      expect(commonErrors.invalidPageToken.is(await rejection(searchRunIds(db, { ...q, pageToken: "garbage" })))).toBe(
        true,
      );
    });
  });

  describe("searchRunIds validation", () => {
    it("rejects bad experiment ids, page sizes and view types with the field named", async () => {
      const cases: [Partial<SearchRunsQuery>, string][] = [
        [{ experimentIds: [] }, "experiment_ids"],
        [{ experimentIds: Array.from({ length: 101 }, (_, i) => String(i)) }, "experiment_ids"],
        [{ experimentIds: ["1", "abc"] }, "experiment_ids[1]"],
        [{ experimentIds: ["-1"] }, "experiment_ids[0]"],
        [{ experimentIds: ["9223372036854775808"] }, "experiment_ids[0]"],
        [{ maxResults: -1 }, "max_results"],
        [{ maxResults: 50_001 }, "max_results"],
        [{ maxResults: 1.5 }, "max_results"],
        [{ viewType: 9 as ViewType }, "run_view_type"],
      ];
      for (const [overrides, field] of cases) {
        const err = await rejection(searchRunIds(db, query(overrides)));
        expect(commonErrors.invalidArgument.is(err), JSON.stringify(overrides)).toBe(true);
        expect(err.field).toBe(field);
      }
      expect((await searchRunIds(db, query({ maxResults: 50_000 }))).runIds).toHaveLength(7);
    });

    it("passes filter and order_by errors through", async () => {
      expect(trackingErrors.invalidFilter.is(await rejection(searchRunIds(db, query({ filter: "metrics.a >" }))))).toBe(
        true,
      );
      expect(
        trackingErrors.invalidOrderBy.is(await rejection(searchRunIds(db, query({ orderBy: ["metrics.a UP"] })))),
      ).toBe(true);
    });
  });

  describe("searchRunIds at the comparison limit (issue 13)", () => {
    const keys = Array.from({ length: maxFilterComparisons }, (_, k) => `k${k}`);
    const filter = keys.map((k) => `metrics.${k} > 0`).join(" AND ");

    beforeAll(async () => {
      const metrics = Object.fromEntries(keys.map((k) => [k, 1]));
      for (const i of [1, 2, 3, 4]) await seedRun(db, { runId: `wide${i}`, experimentId: "4", startTime: i, metrics });
    });

    it("finds the runs matching 200 comparisons", async () => {
      expect(await matching(filter, { experimentIds: ["4"] })).toEqual(["wide1", "wide2", "wide3", "wide4"]);
      expect(
        await matching(`${filter.replace("metrics.k199 > 0", "metrics.k199 > 1")}`, { experimentIds: ["4"] }),
      ).toEqual([]);
    });

    it("lets the planner join only a few of the comparisons' sub-queries, whatever their number", async () => {
      const { sql, params } = buildSearchSql({
        spec: runSearchSpec,
        scope: { expr: "r.experiment_id", type: "bigint", values: ["4"] },
        view: "active",
        filter: parseFilter(filter, runSearchSpec),
        order: parseOrderBy(["start_time DESC"], runSearchSpec),
        after: undefined,
        limit: 10,
      });
      const explained = await db.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
      const joins: string[] = [];
      const walk = (node: unknown): void => {
        if (Array.isArray(node)) node.forEach(walk);
        else if (typeof node === "object" && node !== null) {
          for (const [key, value] of Object.entries(node)) {
            if (key === "Join Type") joins.push(String(value));
            walk(value);
          }
        }
      };
      const plan = explained.rows[0]?.["QUERY PLAN"];
      walk(typeof plan === "string" ? JSON.parse(plan) : plan);
      // Without the fence every comparison is a semi-join the planner orders (7.5 s for 200).
      expect(joins.length).toBeLessThanOrEqual(maxJoinableSubqueries);
    });
  });
});
