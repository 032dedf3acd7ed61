/**
 * Wrapping one of connect-node's router handlers: a UniversalHandler is a function carrying its
 * route's description (service, method, path, protocols, content types), which the router and
 * the adapters read, so a wrapper must carry the same description to stand in for it.
 */
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";

/** `handle` standing in for `handler`: called instead of it, described as it is. */
export function wrapUniversalHandler(
  handler: UniversalHandler,
  handle: (req: UniversalServerRequest) => Promise<UniversalServerResponse>,
): UniversalHandler {
  return Object.assign(handle, {
    protocolNames: handler.protocolNames,
    service: handler.service,
    method: handler.method,
    requestPath: handler.requestPath,
    allowedMethods: handler.allowedMethods,
    supportedContentType: handler.supportedContentType,
  });
}
