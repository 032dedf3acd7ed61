/**
 * The Prometheus metrics of the inference server, in their own registry (served at GET /metrics).
 * Latency buckets reach down to 50 µs: a batched tabular model answers in well under a millisecond.
 * Names without the `inference_` prefix keep the names of the FastAPI service mlpipe replaces.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Seconds; sub-millisecond resolution for fast models, up to 5 s for slow ones. */
export const latencyBuckets: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/** Rows per batch. */
export const batchSizeBuckets: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** The metrics, each documented by its help text. */
export interface InferenceMetrics {
  readonly registry: Registry;
  readonly latency: Histogram<"model" | "version">;
  readonly requests: Counter<"protocol" | "code">;
  readonly loadTime: Gauge<"model" | "version">;
  readonly activeVersion: Gauge<"model" | "version">;
  readonly queueTime: Histogram<"model" | "version">;
  readonly batchSize: Histogram<"model" | "version">;
  readonly inFlight: Gauge;
  readonly queueDepth: Gauge<"model" | "version">;
  readonly dropped: Counter<"model" | "version" | "reason">;
  readonly shed: Counter<"protocol" | "reason">;
  readonly computedRows: Counter<"model" | "version">;
  readonly workerFailures: Counter;
  /**
   * A count of `prediction_requests_total{protocol, code}` kept in a plain number and added to the
   * counter at each scrape: the per-request path pays an increment, not prom-client's label
   * validation and hashing. The same tally is returned for the same labels.
   */
  requestTally(protocol: string, code: string): RequestTally;
  /**
   * Sets what `inference_in_flight_requests` reports: read at each scrape rather than updated per
   * request (a labelled gauge update hashes its labels, a cost every request would pay).
   */
  sampleInFlight(read: () => number): void;
  /** Sets what `inference_queue_depth` reports, read at each scrape: rows queued per model version. */
  sampleQueueDepth(read: () => Iterable<QueueDepthSample>): void;
}

/** See {@link InferenceMetrics.requestTally}. */
export interface RequestTally {
  inc(): void;
}

/** Rows queued for one model version, as read at a scrape. */
export interface QueueDepthSample {
  readonly labels: { readonly model: string; readonly version: string };
  readonly rows: number;
}

/** Creates the metrics in a fresh registry (plus the default process metrics unless `processMetrics` is false). */
export function createInferenceMetrics(options: { readonly processMetrics?: boolean } = {}): InferenceMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const mv = ["model", "version"] as const;
  let readInFlight: () => number = () => 0;
  let readQueueDepth: () => Iterable<QueueDepthSample> = () => [];
  const tallies = new Map<string, { readonly labels: { protocol: string; code: string }; pending: number }>();
  return {
    registry,
    latency: new Histogram({
      name: "prediction_latency_seconds",
      help: "Time from a prediction request's arrival to its answer, in seconds (queue + batch run).",
      labelNames: mv,
      buckets: [...latencyBuckets],
      registers: [registry],
    }),
    requests: new Counter({
      name: "prediction_requests_total",
      help: "Prediction requests answered, by protocol (http, grpc, connect, grpc_web) and status code (ok or the error code).",
      labelNames: ["protocol", "code"] as const,
      registers: [registry],
      collect() {
        for (const t of tallies.values()) {
          if (t.pending === 0) continue;
          this.inc(t.labels, t.pending);
          t.pending = 0;
        }
      },
    }),
    loadTime: new Gauge({
      name: "model_load_time_seconds",
      help: "Time to load and warm a model version, in seconds.",
      labelNames: mv,
      registers: [registry],
    }),
    activeVersion: new Gauge({
      name: "active_model_version",
      help: "1 for the model version served by default.",
      labelNames: mv,
      registers: [registry],
    }),
    queueTime: new Histogram({
      name: "inference_queue_time_seconds",
      help: "Time a request waited in the batching queue before its batch was dispatched, in seconds.",
      labelNames: mv,
      buckets: [...latencyBuckets],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: "inference_batch_size",
      help: "Rows per batch run by the model.",
      labelNames: mv,
      buckets: [...batchSizeBuckets],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: "inference_in_flight_requests",
      help: "Prediction requests accepted and not yet answered.",
      registers: [registry],
      collect() {
        this.set(readInFlight());
      },
    }),
    queueDepth: new Gauge({
      name: "inference_queue_depth",
      help: "Rows waiting in the batching queue.",
      labelNames: mv,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of readQueueDepth()) this.set({ model: s.labels.model, version: s.labels.version }, s.rows);
      },
    }),
    dropped: new Counter({
      name: "inference_dropped_requests_total",
      help: "Queued requests dropped without being computed: their deadline passed or their caller went away.",
      labelNames: ["model", "version", "reason"] as const,
      registers: [registry],
    }),
    shed: new Counter({
      name: "inference_shed_requests_total",
      help: "Prediction requests refused unread by admission control (429 / RESOURCE_EXHAUSTED), by protocol and reason (in_flight, event_loop_delay).",
      labelNames: ["protocol", "reason"] as const,
      registers: [registry],
    }),
    computedRows: new Counter({
      name: "inference_computed_rows_total",
      help: "Rows the model computed (warm-up excluded).",
      labelNames: mv,
      registers: [registry],
    }),
    workerFailures: new Counter({
      name: "inference_worker_failures_total",
      help: "Batches lost because their worker thread died (the worker is replaced).",
      registers: [registry],
    }),
    requestTally(protocol, code) {
      const key = `${protocol} ${code}`;
      let t = tallies.get(key);
      if (t === undefined) {
        const tally = { labels: { protocol, code }, pending: 0 };
        tallies.set(key, tally);
        t = tally;
      }
      const counted = t;
      return {
        inc() {
          counted.pending++;
        },
      };
    },
    sampleInFlight(read) {
      readInFlight = read;
    },
    sampleQueueDepth(read) {
      readQueueDepth = read;
    },
  };
}
