import { migrate } from "../storage/sql/migrate.js";
import { createPgliteClient } from "../storage/sql/pglite-client.js";
import { describeRegistryStore } from "../test/support/registry-store-contract.js";

describeRegistryStore("PGlite", async () => {
  const client = await createPgliteClient(undefined);
  await migrate(client);
  return { client, dispose: () => client.close() };
});
