import { migrate } from "../store/migrate.js";
import { createPgliteClient } from "../store/pglite-client.js";
import { describeRegistryStore } from "./registry-store-contract.js";

describeRegistryStore("PGlite", async () => {
  const client = await createPgliteClient(undefined);
  await migrate(client);
  return { client, dispose: () => client.close() };
});
