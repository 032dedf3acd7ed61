/** The SDK client the CLI's commands talk to the registry with. */
import { createMlpipeClient, type MlpipeClient } from "../sdk/index.js";

/** Recorded in the registry's audit log as who made a change through the CLI. */
export const cliActor = "mlpipe-cli";

/** A client of the tracking + registry server at `url` (Connect over HTTP/1.1). */
export function createCliClient(url: string): MlpipeClient {
  return createMlpipeClient({ url, actor: cliActor });
}
