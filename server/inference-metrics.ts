/**
 * The Prometheus metrics of the inference server, in their own registry (served at GET /metrics).
 * Latency buckets reach down to 50 µs: a batched tabular model answers in well under a millisecond.
 * Names without the `inference_` prefix keep the names of the FastAPI service mlpipe replaces.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { registerProcessFaultMetric } from "../core/process-faults.js";

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
  readonly requests: Counter<"protocol" | "code" | "model">;
  readonly loadTime: Gauge<"model" | "version">;
  readonly loadFailures: Counter<"model">;
  readonly activeVersion: Gauge<"model" | "version">;
  /** 1 where a version's batches run on the event loop, 0 where on the worker threads (workers/inline-choice.ts). */
  readonly runsOnEventLoop: Gauge<"model" | "version">;
  readonly queueTime: Histogram<"model" | "version">;
  readonly batchSize: Histogram<"model" | "version">;
  readonly inFlight: Gauge;
  readonly queueDepth: Gauge<"model" | "version">;
  readonly queueCapacity: Gauge;
  readonly dropped: Counter<"model" | "version" | "reason">;
  readonly shed: Counter<"protocol" | "reason">;
  readonly computedRows: Counter<"model" | "version">;
  readonly workerFailures: Counter;
  /**
   * Mirrored requests by outcome (agree, disagree, error, dropped), per served model and shadow
   * alias (server/routing/shadow-mirror.ts).
   */
  readonly shadowRequests: Counter<"model" | "alias" | "outcome">;
  /** Time from a mirror's start to the shadow version's answer, in seconds. */
  readonly shadowLatency: Histogram<"model" | "alias">;
  /**
   * A count of `prediction_requests_total{protocol, code, model}` kept in a plain number and added
   * to the counter at each scrape: the per-request path pays an increment, not prom-client's label
   * validation and hashing. The same tally is returned for the same labels. `model` is a model the
   * server serves, or "" when the request named none it serves (bounded cardinality: a caller
   * cannot create series by naming models).
   */
  requestTally(protocol: string, code: string, model: string): RequestTally;
  /**
   * Observes `prediction_latency_seconds` (or, for "queue", `inference_queue_time_seconds`) of one
   * model version, per request: samples are buffered and handed to prom-client in a tight loop when
   * the buffer fills and at each scrape. The histogram is exact; the per-request path pays a store
   * instead of prom-client's label validation, hashing and bucket lookup (about 2 µs each in the
   * server, 9% of its main-thread time per JSON request with both histograms).
   */
  sampleObserver(histogram: "latency" | "queue", labels: ModelLabels): SampleObserver;
  /**
   * Sets what `inference_in_flight_requests` reports: read at each scrape rather than updated per
   * request (a labelled gauge update hashes its labels, a cost every request would pay).
   */
  sampleInFlight(read: () => number): void;
  /** Sets what `inference_queue_depth` reports, read at each scrape: rows queued per model version. */
  sampleQueueDepth(read: () => Iterable<QueueDepthSample>): void;
}

/** The labels of a model version's series. */
export interface ModelLabels {
  readonly model: string;
  readonly version: string;
}

/** See {@link InferenceMetrics.sampleObserver}. */
export interface SampleObserver {
  observe(value: number): void;
}

/** Samples buffered per series before they are handed to prom-client (2 KB; a series per model version and histogram). */
const sampleBufferSize = 256;

/** One labelled histogram series whose samples reach prom-client in bulk. */
class BufferedSeries implements SampleObserver {
  private readonly samples = new Float64Array(sampleBufferSize);
  private count = 0;

  constructor(private readonly child: { observe(value: number): void }) {}

  observe(value: number): void {
    this.samples[this.count++] = value;
    if (this.count === sampleBufferSize) this.flush();
  }

  flush(): void {
    const n = this.count;
    this.count = 0;
    for (let i = 0; i < n; i++) this.child.observe(this.samples[i] as number);
  }
}

/** See {@link InferenceMetrics.requestTally}. */
export interface RequestTally {
  inc(): void;
}

/** Requests of one protocol and code counted since the last scrape. */
class Tally implements RequestTally {
  pending = 0;

  constructor(readonly labels: { readonly protocol: string; readonly code: string; readonly model: string }) {}

  inc(): void {
    this.pending++;
  }
}

/** Rows queued for one model version, as read at a scrape. */
export interface QueueDepthSample {
  readonly labels: ModelLabels;
  readonly rows: number;
}

/** Creates the metrics in a fresh registry (plus the default process metrics unless `processMetrics` is false). */
export function createInferenceMetrics(options: { readonly processMetrics?: boolean } = {}): InferenceMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    registerProcessFaultMetric(registry);
  }
  const mv = ["model", "version"] as const;
  let readInFlight: () => number = () => 0;
  let readQueueDepth: () => Iterable<QueueDepthSample> = () => [];
  const tallies = new Map<string, Tally>();
  const buffered = { latency: new Map<string, BufferedSeries>(), queue: new Map<string, BufferedSeries>() };
  /** A latency-bucketed histogram of the model versions whose samples `series` buffers. */
  const bufferedHistogram = (name: string, help: string, series: Map<string, BufferedSeries>) =>
    new Histogram({
      name,
      help,
      labelNames: mv,
      buckets: [...latencyBuckets],
      registers: [registry],
      collect() {
        for (const s of series.values()) s.flush();
      },
    });
  const histograms = {
    latency: bufferedHistogram(
      "prediction_latency_seconds",
      "Time from a prediction request's arrival to its answer, in seconds (queue + batch run).",
      buffered.latency,
    ),
    queue: bufferedHistogram(
      "inference_queue_time_seconds",
      "Time a request waited in the batching queue before its batch was dispatched, in seconds.",
      buffered.queue,
    ),
  };
  return {
    registry,
    latency: histograms.latency,
    requests: new Counter({
      name: "prediction_requests_total",
      help: "Prediction requests answered, by protocol (http, grpc, connect, grpc_web), status code (ok or the error code) and model (empty when the request named no model the server serves).",
      labelNames: ["protocol", "code", "model"] as const,
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
      // Every HTTP worker process of a cluster loads the same version: one value, not their sum.
      aggregator: "max",
      help: "Time to load and warm a model version, in seconds.",
      labelNames: mv,
      registers: [registry],
    }),
    loadFailures: new Counter({
      name: "model_load_failures_total",
      help: "Model versions that could not be served, by model: download, verification, parsing, memory limit or warm-up failed.",
      labelNames: ["model"] as const,
      registers: [registry],
    }),
    activeVersion: new Gauge({
      name: "active_model_version",
      // Every HTTP worker process of a cluster loads the same version: one value, not their sum.
      aggregator: "max",
      help: "1 for the model version served by default.",
      labelNames: mv,
      registers: [registry],
    }),
    runsOnEventLoop: new Gauge({
      name: "model_runs_on_event_loop",
      // Each HTTP worker process of a cluster times and places the version on its own: the sum is
      // how many of them run it on their event loop.
      help: "1 when a loaded model version's batches run on the serving process's event loop (a full batch under INFERENCE_INLINE_MAX_BATCH_US), 0 when on the worker threads; summed over a cluster's processes.",
      labelNames: mv,
      registers: [registry],
    }),
    queueTime: histograms.queue,
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
    queueCapacity: new Gauge({
      name: "inference_queue_capacity_rows",
      help: "Rows one model version's batching queue holds before requests get INFERENCE_QUEUE_FULL (MAX_QUEUE_SIZE).",
      registers: [registry],
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
    shadowRequests: new Counter({
      name: "shadow_requests_total",
      help: "Requests mirrored to a shadow version (model tag mlpipe.shadow), by model, alias and outcome: agree, disagree (another class, or a regression value beyond the tolerance), error or dropped (mirror queue full).",
      labelNames: ["model", "alias", "outcome"] as const,
      registers: [registry],
    }),
    shadowLatency: new Histogram({
      name: "shadow_latency_seconds",
      help: "Time from a mirror's start to the shadow version's answer, in seconds (the caller never waits for it).",
      labelNames: ["model", "alias"] as const,
      buckets: [...latencyBuckets],
      registers: [registry],
    }),
    sampleObserver(histogram, labels) {
      const key = `${labels.model}\u0000${labels.version}`;
      const series = buffered[histogram];
      let s = series.get(key);
      if (s === undefined) {
        s = new BufferedSeries(histograms[histogram].labels({ model: labels.model, version: labels.version }));
        series.set(key, s);
      }
      return s;
    },
    requestTally(protocol, code, model) {
      const key = `${protocol} ${code} ${model}`;
      let t = tallies.get(key);
      if (t === undefined) {
        t = new Tally({ protocol, code, model });
        tallies.set(key, t);
      }
      return t;
    },
    sampleInFlight(read) {
      readInFlight = read;
    },
    sampleQueueDepth(read) {
      readQueueDepth = read;
    },
  };
}
