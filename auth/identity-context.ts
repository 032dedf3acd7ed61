/**
 * How an authenticated identity travels with a call: a connect-es context value, set at the edge
 * (gateway/auth/) before the handler runs and read by the authorization guard (guard-service.ts).
 * A caller that builds its own handler context (the MLflow REST adapter, with connect-es
 * `createHandlerContext`) sets it the same way.
 */
import { type ContextValues, createContextKey } from "@connectrpc/connect";
import type { Identity } from "./identity.js";

/** The call's identity; undefined: the request carried no credentials. */
export const identityKey = createContextKey<Identity | undefined>(undefined, { description: "mlpipe identity" });

/** The identity of a call's context values, if any. */
export function identityOf(values: ContextValues): Identity | undefined {
  return values.get(identityKey);
}
