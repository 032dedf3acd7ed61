/**
 * Starts mlpipe's tracking + registry server (`mlpipe registry`, through cli/mlpipe.ts) in its own
 * process on a free port of 127.0.0.1, for the tracking and registry-promotion scenarios.
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { TrackingService } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { freePort, startChildServer } from "./child-server.js";
import type { StartedServer } from "./inference-servers.js";

/**
 * Starts the registry server with `env` (MLPIPE_DATA_DIR, DATABASE_URL, LOG_LEVEL, ...; HOST and
 * REGISTRY_PORT are set here); ready once GetExperiment of the "Default" experiment answers over gRPC.
 */
export async function startRegistryProcess(env: Readonly<Record<string, string>>): Promise<StartedServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const client = createClient(TrackingService, createGrpcTransport({ baseUrl: url }));
  const child = await startChildServer({
    script: "cli/mlpipe.ts",
    args: ["registry"],
    env: { ...env, REGISTRY_PORT: String(port), HOST: "127.0.0.1" },
    ready: async () => {
      await client.getExperiment({ experimentId: "0" }, { timeoutMs: 1000 });
      return true;
    },
  });
  return { child, url };
}
