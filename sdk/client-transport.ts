import { readFileSync } from "node:fs";
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { commonErrors } from "../core/errors/common-errors.js";

/**
 * The wire protocol of a client:
 * - "connect": the Connect protocol (binary protobuf) over HTTP/1.1, which passes through every
 *   proxy and load balancer, client streaming (artifact uploads) included;
 * - "grpc": gRPC over cleartext HTTP/2 (prior knowledge), one multiplexed connection.
 */
export type ClientProtocol = "connect" | "grpc";

/** Options of {@link createClientTransport}. */
export interface ClientTransportOptions {
  /** Base URL of the server, e.g. "http://127.0.0.1:5000" (http: or https:). */
  readonly url: string;
  /** Default "connect". */
  readonly protocol?: ClientProtocol;
  /** Sent as the `mlpipe-actor` header, which the registry records in its audit log. */
  readonly actor?: string;
  /**
   * API token (or OIDC JWT) sent as `Authorization: Bearer <token>` on every call, for a server
   * with REGISTRY_AUTH=token; the CLI takes it from MLPIPE_TOKEN. Default none.
   */
  readonly token?: string;
  /** Deadline of each call in milliseconds, artifact uploads included; default none. */
  readonly timeoutMs?: number;
  /**
   * CA certificates, PEM, trusted for an https `url` besides Node's bundle (a private CA or a
   * self-signed server certificate). Default none.
   */
  readonly ca?: string | Buffer;
  /** A PEM file read for {@link ca} when the transport is created (the CLI's MLPIPE_CA_FILE). Default none. */
  readonly caFile?: string;
}

/** The transport of {@link createMlpipeClient}; rejects a URL that is not http(s) at once. */
export function createClientTransport(options: ClientTransportOptions): Transport {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw commonErrors.invalidArgument("url", `"${options.url}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw commonErrors.invalidArgument("url", `"${options.url}" must be an http:// or https:// URL`);
  }
  const baseUrl = options.url.replace(/\/+$/, "");
  const { actor, token } = options;
  const headers: [string, string][] = [];
  if (actor !== undefined) headers.push(["mlpipe-actor", actor]);
  if (token !== undefined) headers.push(["authorization", `Bearer ${token}`]);
  const interceptors: Interceptor[] =
    headers.length === 0
      ? []
      : [
          (next) => (req) => {
            for (const [name, value] of headers) req.header.set(name, value);
            return next(req);
          },
        ];
  const ca = options.ca ?? readCaFile(options.caFile);
  const common = {
    baseUrl,
    interceptors,
    ...(ca === undefined ? {} : { nodeOptions: { ca } }),
    ...(options.timeoutMs === undefined ? {} : { defaultTimeoutMs: options.timeoutMs }),
  };
  return options.protocol === "grpc"
    ? createGrpcTransport(common)
    : createConnectTransport({ ...common, httpVersion: "1.1", useBinaryFormat: true });
}

function readCaFile(path: string | undefined): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw commonErrors.invalidArgument("caFile", `cannot read "${path}": ${(err as Error).message}`);
  }
}
