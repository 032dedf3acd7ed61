/** The SDK clients the CLI's commands talk to the registry with. */
import { createClient } from "@connectrpc/connect";
import { type Env, readClientToken } from "../core/config.js";
import { AuthService } from "../gen/mlpipe/auth/v1/auth_pb.js";
import { createClientTransport, createMlpipeClient, type MlpipeClient } from "../sdk/index.js";

/** Recorded in the registry's audit log as who made a change through the CLI (when auth is off). */
export const cliActor = "mlpipe-cli";

/**
 * A client of the tracking + registry server at `url` (Connect over HTTP/1.1), sending the API
 * token of MLPIPE_TOKEN in `env` when set and trusting the CA file of MLPIPE_CA_FILE for https.
 */
export function createCliClient(url: string, env: Env): MlpipeClient {
  const token = readClientToken(env);
  const caFile = env.MLPIPE_CA_FILE;
  return createMlpipeClient({
    url,
    actor: cliActor,
    ...(token === undefined ? {} : { token }),
    ...(caFile === undefined || caFile === "" ? {} : { caFile }),
  });
}

/** A client of the registry's AuthService (tokens, grants, administrators), with MLPIPE_TOKEN. */
export function createCliAuthClient(url: string, env: Env) {
  const token = readClientToken(env);
  const caFile = env.MLPIPE_CA_FILE;
  return createClient(
    AuthService,
    createClientTransport({
      url,
      ...(token === undefined ? {} : { token }),
      ...(caFile === undefined || caFile === "" ? {} : { caFile }),
    }),
  );
}
