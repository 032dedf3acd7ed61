/**
 * The inference server's client of the model registry: the generated RegistryService client over
 * Connect's gRPC transport (cleartext HTTP/2 to REGISTRY_URL, or TLS for https://). This is the
 * only way `server/` talks to the registry, so the two can run as separate processes.
 */
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { RegistryService } from "../../gen/mlpipe/registry/v1/registry_pb.js";

/** The generated registry client. */
export type RegistryRpc = Client<typeof RegistryService>;

/** A registry client and the connection it owns. */
export interface RegistryClient {
  /** The registry's base URL, for logs and messages. */
  readonly url: string;
  readonly rpc: RegistryRpc;
  /** Closes the HTTP/2 connection and every call on it. */
  close(): void;
}

/** Options of {@link createRegistryClient}. */
export interface RegistryClientOptions {
  /** Base URL, e.g. http://registry:5000. */
  readonly url: string;
  /**
   * Interval of HTTP/2 PINGs while a call is open, in ms (default 15 000): a registry that
   * vanishes without closing the connection (host down, partition) is noticed within this plus
   * pingTimeoutMs, and the watch stream reconnects.
   */
  readonly pingIntervalMs?: number;
  /** How long a PING may go unanswered, in ms (default 10 000). */
  readonly pingTimeoutMs?: number;
  /**
   * API token sent as `Authorization: Bearer` on every call (MLPIPE_TOKEN), for a registry with
   * REGISTRY_AUTH=token; it needs READ on the served model. Default none.
   */
  readonly token?: string | undefined;
  /** CA certificates, PEM, trusted for an https `url` besides Node's bundle (MLPIPE_CA_FILE's content). Default none. */
  readonly ca?: string | Buffer | undefined;
}

/** Creates the client; the connection opens on the first call and reopens after failures. */
export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const sessions = new Http2SessionManager(
    options.url,
    {
      pingIntervalMs: options.pingIntervalMs ?? 15_000,
      pingTimeoutMs: options.pingTimeoutMs ?? 10_000,
    },
    options.ca === undefined ? undefined : { ca: options.ca },
  );
  const { token } = options;
  const transport = createGrpcTransport({
    baseUrl: options.url,
    sessionManager: sessions,
    interceptors:
      token === undefined
        ? []
        : [
            (next) => (req) => {
              req.header.set("authorization", `Bearer ${token}`);
              return next(req);
            },
          ],
  });
  return {
    url: options.url,
    rpc: createClient(RegistryService, transport),
    close: () => sessions.abort(),
  };
}
