/**
 * The network edge of the tracking + registry server: TrackingService and RegistryService over
 * connect-node (gRPC, gRPC-Web, Connect JSON and binary), with the edge's error policy, request
 * size limit and malformed-request handling (protocol-connect/connect-handler.ts). What a listener
 * (http/dual-protocol-server.ts) serves; app/registry-server.ts composes it with the stores.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "../../core/logger.js";
import { RegistryService } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { TrackingService } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import type { DualProtocolHandler } from "../http/dual-protocol-server.js";
import { createConnectHandler } from "../protocol-connect/connect-handler.js";

/** Options of {@link createRegistryEdge}. */
export interface RegistryEdgeOptions {
  readonly tracking: ServiceImpl<typeof TrackingService>;
  readonly registry: ServiceImpl<typeof RegistryService>;
  /** Largest request message in bytes (MAX_REQUEST_BYTES): a unary body, or each message of a stream. */
  readonly maxRequestBytes: number;
  readonly logger: Logger;
}

/** Creates the request handler of the tracking and registry services. */
export function createRegistryEdge(options: RegistryEdgeOptions): DualProtocolHandler {
  return createConnectHandler({
    routes: (router) => {
      router.service(TrackingService, options.tracking);
      router.service(RegistryService, options.registry);
    },
    maxRequestBytes: options.maxRequestBytes,
    logger: options.logger,
  });
}
