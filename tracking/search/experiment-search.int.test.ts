import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commonErrors } from "../../core/errors/common-errors.js";
import type { MlpipeError } from "../../core/errors/mlpipe-error.js";
import { trackingErrors } from "../../core/errors/tracking-errors.js";
import { ViewType } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { migrate } from "../../storage/sql/migrate.js";
import type { SqlClient } from "../../storage/sql/sql-client.js";
import { seedExperiment } from "../../test/support/search-test-seed.js";
import { sqlDrivers } from "../../test/support/sql-drivers.js";
import type { SearchExperimentsQuery } from "../tracking-store.js";
import { searchExperimentIds } from "./experiment-search.js";

let db: SqlClient;

/** A fresh database of each driver; the suites run one after the other, each setting `db`. */
const { drivers, closeAll } = sqlDrivers();
afterAll(closeAll);

/** Opens the driver's database and writes the fixtures. */
async function setUp(open: () => Promise<SqlClient>): Promise<void> {
  db = await open();
  await migrate(db);
  await seedExperiment(db, { id: "1", name: "iris-a", creationTime: 100, lastUpdateTime: 500, tags: { team: "ml" } });
  await seedExperiment(db, { id: "2", name: "iris-b", creationTime: 300, lastUpdateTime: 300, tags: { team: "ops" } });
  await seedExperiment(db, { id: "3", name: "mnist", creationTime: 200, lastUpdateTime: 900, tags: { team: "ml" } });
  await seedExperiment(db, { id: "4", name: "old", creationTime: 50, deleted: true, tags: { team: "ml" } });
  await seedExperiment(db, { id: "5", name: "Iris-C", creationTime: 300, lastUpdateTime: 400 });
  await seedExperiment(db, { id: "10", name: "wine", creationTime: 400, tags: { note: "a'b" } });
}

function query(overrides: Partial<SearchExperimentsQuery> = {}): SearchExperimentsQuery {
  return { filter: "", maxResults: 0, orderBy: [], pageToken: "", viewType: ViewType.UNSPECIFIED, ...overrides };
}

async function ids(overrides: Partial<SearchExperimentsQuery> = {}): Promise<string[]> {
  return (await searchExperimentIds(db, query(overrides))).experimentIds;
}

async function rejection(promise: Promise<unknown>): Promise<MlpipeError> {
  try {
    await promise;
  } catch (err) {
    return err as MlpipeError;
  }
  throw new Error("expected the search to fail");
}

describe.each(drivers)("searchExperimentIds over $name", ({ open }) => {
  beforeAll(() => setUp(open));

  describe("searchExperimentIds", () => {
    it("orders by creation_time DESC then experiment_id by default, active only", async () => {
      expect(await ids()).toEqual(["10", "2", "5", "3", "1"]);
      expect(await ids({ viewType: ViewType.DELETED_ONLY })).toEqual(["4"]);
      expect(await ids({ viewType: ViewType.ALL })).toEqual(["10", "2", "5", "3", "1", "4"]);
    });

    it("filters on name, tags, times and ids", async () => {
      const sorted = async (filter: string): Promise<string[]> => (await ids({ filter })).sort();
      expect(await sorted("name LIKE 'iris%'")).toEqual(["1", "2"]);
      expect(await sorted("name ILIKE 'iris%'")).toEqual(["1", "2", "5"]);
      expect(await sorted("name = 'mnist' OR tags.team = 'ops'")).toEqual(["2", "3"]);
      expect(await sorted("tags.team = 'ml' AND creation_time > 100")).toEqual(["3"]);
      expect(await sorted("tags.team IS NULL")).toEqual(["10", "5"]);
      expect(await sorted("tags.note = 'a''b'")).toEqual(["10"]);
      expect(await sorted("last_update_time >= 400 AND last_update_time < 900")).toEqual(["1", "10", "5"]);
      expect(await sorted("experiment_id IN (1, 10, 4)")).toEqual(["1", "10"]);
      expect(await sorted("attributes.experiment_id > 3")).toEqual(["10", "5"]);
    });

    it("orders by name, times and tags with the id as tie-breaker", async () => {
      expect(await ids({ orderBy: ["last_update_time"] })).toEqual(["2", "5", "10", "1", "3"]);
      expect(await ids({ orderBy: ["creation_time", "experiment_id DESC"] })).toEqual(["1", "3", "5", "2", "10"]);
      expect(await ids({ orderBy: ["tags.team DESC"] })).toEqual(["2", "1", "3", "5", "10"]);
      expect(await ids({ orderBy: ["name"], filter: "name LIKE '%i%' AND name != 'Iris-C'" })).toEqual([
        "1",
        "2",
        "3",
        "10",
      ]);
    });

    it("pages through the same list as one page, and rejects tokens of other queries", async () => {
      for (const orderBy of [[], ["name DESC"], ["tags.team", "last_update_time DESC"], ["experiment_id"]]) {
        const whole = await ids({ orderBy, viewType: ViewType.ALL });
        for (const size of [1, 2, 4]) {
          const read: string[] = [];
          let token = "";
          do {
            const page = await searchExperimentIds(
              db,
              query({ orderBy, viewType: ViewType.ALL, maxResults: size, pageToken: token }),
            );
            read.push(...page.experimentIds);
            token = page.nextPageToken;
          } while (token !== "" && read.length < 100);
          expect(read).toEqual(whole);
        }
      }
      const first = await searchExperimentIds(db, query({ maxResults: 2 }));
      expect(first.nextPageToken).not.toBe("");
      const err = await rejection(
        searchExperimentIds(db, query({ maxResults: 2, filter: "name LIKE '%'", pageToken: first.nextPageToken })),
      );
      expect(commonErrors.invalidPageToken.is(err)).toBe(true);
    });

    it("validates max_results, view_type, filter and order_by", async () => {
      expect(await ids({ maxResults: 1000 })).toHaveLength(5);
      for (const maxResults of [-1, 1001]) {
        const err = await rejection(searchExperimentIds(db, query({ maxResults })));
        expect(commonErrors.invalidArgument.is(err)).toBe(true);
        expect(err.field).toBe("max_results");
      }
      const view = await rejection(searchExperimentIds(db, query({ viewType: 7 as ViewType })));
      expect(view.field).toBe("view_type");
      expect(
        trackingErrors.invalidFilter.is(await rejection(searchExperimentIds(db, query({ filter: "run_name = 'x'" })))),
      ).toBe(true);
      expect(
        trackingErrors.invalidOrderBy.is(await rejection(searchExperimentIds(db, query({ orderBy: ["metrics.a"] })))),
      ).toBe(true);
    });
  });
});
