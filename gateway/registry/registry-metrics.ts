/**
 * The Prometheus metrics of the tracking + registry server, in their own registry (served at
 * GET /metrics on the registry port): every RPC by service, method and status code with its
 * latency, LogBatch points stored, open watch streams, the database's reachability and, on
 * PostgreSQL, its connection pool. Labels take their values from the registered services only
 * (unknown routes never reach an interceptor), so the number of series is bounded.
 */
import { isMessage } from "@bufbuild/protobuf";
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { type Code, codeName } from "../../core/errors/index.js";
import { registerProcessFaultMetric } from "../../core/process-faults.js";
import { LogBatchRequestSchema, LogBatchResponseSchema } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";

/** Seconds: from a cached read (sub-millisecond) to a large artifact transfer. */
export const rpcDurationBuckets: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** A database connection pool's counts at one instant, as the metrics read them. */
export interface PoolCounts {
  /** Most connections the pool opens. */
  readonly max: number;
  /** Connections open now, idle or in use. */
  readonly total: number;
  /** Open connections not checked out. */
  readonly idle: number;
  /** Queries and transactions waiting for a connection. */
  readonly waiting: number;
}

/** Where the numbers that live outside the edge are read, at each scrape. */
export interface RegistryMetricsSources {
  /** Whether the metadata database answered its last probe (database-readiness.ts). */
  readonly databaseUp: () => boolean;
  /** Open WatchRegisteredModel subscriptions (WatchHub.size). */
  readonly watchSubscribers: () => number;
  /** The PostgreSQL pool's counts; undefined on embedded PGlite, which has no pool (no series then). */
  readonly poolStats: () => PoolCounts | undefined;
  /** Default process metrics (CPU, memory, event loop, GC) too; default true. */
  readonly processMetrics?: boolean;
}

/** The registry's metrics: what /metrics serves and the interceptor that counts RPCs. */
export interface RegistryMetrics {
  readonly registry: Registry;
  /**
   * Counts every RPC (`registry_rpc_requests_total`) and observes its duration
   * (`registry_rpc_duration_seconds`; a stream's lasts until its last message), plus the points
   * of successful LogBatch calls. Install it outside the error interceptor so it sees final codes.
   */
  readonly interceptor: Interceptor;
}

type RpcLabels = { service: string; method: string; type: string };

/** The status label of an RPC's outcome: "ok" or the snake_case code, as the inference metrics spell it. */
function codeLabel(err: unknown): string {
  // Connect's Code enum has the gRPC numbers, as mlpipe's Code does.
  return codeName(ConnectError.from(err).code as number as Code);
}

/** Creates the metrics in a fresh registry. */
export function createRegistryMetrics(sources: RegistryMetricsSources): RegistryMetrics {
  const registry = new Registry();
  if (sources.processMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    registerProcessFaultMetric(registry);
  }
  const requests = new Counter({
    name: "registry_rpc_requests_total",
    help: "RPCs handled by the tracking + registry server, by service, method, type (unary, server_streaming, ...) and status code (ok or the error code).",
    labelNames: ["service", "method", "type", "code"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "registry_rpc_duration_seconds",
    help: "Time from an RPC's start to its end (a stream's last message), in seconds.",
    labelNames: ["service", "method", "type"] as const,
    buckets: [...rpcDurationBuckets],
    registers: [registry],
  });
  const points = new Counter({
    name: "registry_logbatch_points_total",
    help: "Points stored by LogBatch calls, by kind (metric, param, tag); retried batches already stored are not counted again.",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  for (const kind of ["metric", "param", "tag"]) points.inc({ kind }, 0);
  new Gauge({
    name: "registry_watch_subscribers",
    help: "Open WatchRegisteredModel streams (inference servers following a model, mostly).",
    registers: [registry],
    collect() {
      this.set(sources.watchSubscribers());
    },
  });
  new Gauge({
    name: "registry_database_up",
    help: "1 when the metadata database answered the last readiness probe, 0 when it did not.",
    registers: [registry],
    collect() {
      this.set(sources.databaseUp() ? 1 : 0);
    },
  });
  const pool = (name: string, help: string, read: (s: PoolCounts) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const stats = sources.poolStats();
        if (stats === undefined) this.reset();
        else this.set(read(stats));
      },
    });
  };
  pool(
    "registry_db_pool_max_connections",
    "Most PostgreSQL connections the pool opens (DATABASE_POOL_SIZE).",
    (s) => s.max,
  );
  pool("registry_db_pool_connections", "PostgreSQL connections open, idle or in use.", (s) => s.total);
  pool("registry_db_pool_idle_connections", "Open PostgreSQL connections not in use.", (s) => s.idle);
  pool("registry_db_pool_waiting_requests", "Queries waiting for a free PostgreSQL connection.", (s) => s.waiting);

  const countPoints = (message: unknown, response: unknown): void => {
    if (!isMessage(message, LogBatchRequestSchema) || !isMessage(response, LogBatchResponseSchema)) return;
    if (response.duplicate) return;
    points.inc({ kind: "metric" }, message.metrics.length);
    points.inc({ kind: "param" }, message.params.length);
    points.inc({ kind: "tag" }, message.tags.length);
  };

  const interceptor: Interceptor = (next) => async (req) => {
    const started = performance.now();
    const labels: RpcLabels = { service: req.service.typeName, method: req.method.name, type: req.method.methodKind };
    const done = (code: string): void => {
      requests.inc({ ...labels, code });
      duration.observe(labels, (performance.now() - started) / 1000);
    };
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (err) {
      done(codeLabel(err));
      throw err;
    }
    if (!res.stream) {
      done("ok");
      if (!req.stream) countPoints(req.message, res.message);
      return res;
    }
    return { ...res, message: observeStream(res.message, req.signal, done) };
  };
  return { registry, interceptor };
}

/**
 * Passes a response stream through, calling `done` once when it ends: "ok" after its last
 * message, the error's code when it fails, "canceled" when the client went away (handlers such as
 * WatchRegisteredModel then end their stream normally) or the consumer stopped early.
 */
async function* observeStream<T>(
  messages: AsyncIterable<T>,
  signal: AbortSignal,
  done: (code: string) => void,
): AsyncIterable<T> {
  let code = "canceled";
  try {
    yield* messages;
    if (!signal.aborted) code = "ok";
  } catch (err) {
    code = codeLabel(err);
    throw err;
  } finally {
    done(code);
  }
}
