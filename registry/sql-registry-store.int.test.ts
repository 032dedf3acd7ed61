import { afterAll, beforeAll } from "vitest";
import { migrate } from "../storage/sql/migrate.js";
import { createPgClient } from "../storage/sql/pg-client.js";
import { startPostgres, type TestPostgres } from "../test/support/postgres.js";
import { describeRegistryStore } from "../test/support/registry-store-contract.js";

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  await postgres?.cleanup();
});

describeRegistryStore("PostgreSQL", async () => {
  const client = createPgClient({ url: await postgres.createDatabase(), poolSize: 12 });
  await migrate(client);
  return { client, dispose: () => client.close() };
});
