/**
 * The messages the inference cluster's primary and its HTTP worker processes exchange over the
 * node:cluster IPC channel. They cross a process boundary as plain data and are recognised by
 * shape (prom-client's own `prom-client:*` messages share the channel and are left alone).
 */

/** Worker -> primary: this process listens (its listeners' base URLs). */
export interface ListeningMessage {
  readonly type: "mlpipe:listening";
  readonly url: string;
  readonly grpcUrl: string;
}

/** Worker -> primary: this process can serve (a model loaded and warmed, not draining) or not. */
export interface LocalReadinessMessage {
  readonly type: "mlpipe:local-readiness";
  readonly serving: boolean;
}

/** Worker -> primary: the metrics of every process, for a GET /metrics this worker answers. */
export interface MetricsRequestMessage {
  readonly type: "mlpipe:metrics-request";
  /** Matches the answer to its request (unique within the asking worker). */
  readonly id: number;
}

/** Primary -> worker: every process of the cluster can serve, or one cannot. */
export interface ClusterReadinessMessage {
  readonly type: "mlpipe:cluster-readiness";
  readonly serving: boolean;
}

/** Primary -> worker: the answer to a {@link MetricsRequestMessage}: the aggregated text, or why there is none. */
export interface MetricsResponseMessage {
  readonly type: "mlpipe:metrics-response";
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

/** Primary -> worker: drain and exit 0 (the primary got SIGTERM or SIGINT). */
export interface ShutdownMessage {
  readonly type: "mlpipe:shutdown";
}

/** What a worker sends. */
export type WorkerMessage = ListeningMessage | LocalReadinessMessage | MetricsRequestMessage;
/** What the primary sends. */
export type PrimaryMessage = ClusterReadinessMessage | MetricsResponseMessage | ShutdownMessage;

const workerTypes: ReadonlySet<string> = new Set([
  "mlpipe:listening",
  "mlpipe:local-readiness",
  "mlpipe:metrics-request",
]);
const primaryTypes: ReadonlySet<string> = new Set([
  "mlpipe:cluster-readiness",
  "mlpipe:metrics-response",
  "mlpipe:shutdown",
]);

function typeOf(message: unknown): string | undefined {
  if (typeof message !== "object" || message === null || !("type" in message)) return undefined;
  return typeof message.type === "string" ? message.type : undefined;
}

/** True for a message a worker sent (our own kinds; anything else on the channel is not). */
export function isWorkerMessage(message: unknown): message is WorkerMessage {
  return workerTypes.has(typeOf(message) ?? "");
}

/** True for a message the primary sent (our own kinds). */
export function isPrimaryMessage(message: unknown): message is PrimaryMessage {
  return primaryTypes.has(typeOf(message) ?? "");
}
