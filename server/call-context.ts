/**
 * What a transport tells the data plane about a call besides the request itself: which surface it
 * came through (the `protocol` label of prediction_requests_total), when it arrived, its deadline
 * and the signal that fires when its client goes away.
 */
import type { CancelSignal } from "./batching/cancellation.js";

/**
 * The surface a request came through, spelled as the `protocol` label of the inference metrics:
 * "http" for the JSON routes, "grpc", "grpc_web" and "connect" for the RPC protocols.
 */
export type Protocol = "http" | "grpc" | "grpc_web" | "connect";

/** Per-call context from the transport. */
export interface CallContext {
  /** The surface the call came through; the data plane counts the call's outcome under it. */
  readonly protocol: Protocol;
  /** Absolute deadline on the `performance.now()` clock, in ms; undefined for none. */
  readonly deadline?: number | undefined;
  /** Aborts when the client goes away. */
  readonly signal?: CancelSignal | undefined;
  /** When the request arrived, on the `performance.now()` clock; default: when the call starts. */
  readonly receivedAt?: number | undefined;
}
