import { afterAll, beforeAll } from "vitest";
import { startPostgres, type TestPostgres } from "../../test/support/postgres.js";
import { migrate } from "../store/migrate.js";
import { createPgClient } from "../store/pg-client.js";
import { describeRegistryStore } from "./registry-store-contract.js";

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
