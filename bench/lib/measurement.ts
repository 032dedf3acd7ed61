/**
 * One load measurement against one server, with the server's CPU time and its own /metrics view
 * read over exactly the measured window.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { StartedServer } from "./inference-servers.js";
import type { LoadResult, LoadTiming, WindowHooks } from "./load-generator.js";
import { processTreeCpuSeconds, processTreeRssBytes } from "./process-cpu.js";
import { type MetricsSnapshot, type ServerView, scrapeMetrics, serverView } from "./server-metrics.js";

/** The generator's V8 `gc()`, made reachable without starting Node with --expose-gc. */
const collectGarbage: () => void = (() => {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
})();

/**
 * Starts each measurement from a generator without the previous one's garbage: a full collection
 * and a short pause. Without it, a measurement right after a heavy one (a minute of gRPC calls)
 * paid for the collections of the earlier garbage: JSON /predict measured 17.1k req/s with p99
 * 12 ms straight after a minute of gRPC load, 22.2k with p99 6 ms after a one-second pause.
 */
async function settleGenerator(): Promise<void> {
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 500));
}

/** A load measurement with its context. */
export interface Measurement {
  /** Which server answered: "mlpipe", "noop", "naive-node", "fastapi", ... */
  readonly server: string;
  /** "grpc", "connect-binary", "connect-json", "http-json", "grpc-batch", "grpc-stream". */
  readonly protocol: string;
  /** Rows carried by one request (1, or the batch size). */
  readonly rowsPerRequest: number;
  /**
   * Which load generator sent the requests: "node" (lib/load-generator.ts, this process) or "wrk"
   * (lib/wrk-load.ts, JSON /predict when wrk is installed). Absent in results written before wrk
   * was used, where it was always "node".
   */
  readonly generator?: LoadGenerator;
  readonly load: LoadResult;
  /** Rows per second answered (throughput x rowsPerRequest). */
  readonly rowsPerSecond: number;
  /** CPU of the server process and its children per measured second (1 = one core); undefined without /proc. */
  readonly serverCpuCores: number | undefined;
  /** Resident memory of the server at the end, MB. */
  readonly serverRssMb: number | undefined;
  /** mlpipe's own view (batch size, queue time) from its /metrics; undefined for other servers. */
  readonly serverView: ServerView | undefined;
}

/** The load generators a measurement can come from; see {@link Measurement.generator}. */
export type LoadGenerator = "node" | "wrk";

/** Options of {@link measure}. */
export interface MeasureOptions {
  readonly server: StartedServer;
  readonly serverName: string;
  readonly protocol: string;
  readonly rowsPerRequest?: number;
  /** Which generator `load` runs (default "node"). */
  readonly generator?: LoadGenerator;
  /** Read mlpipe's /metrics over the window. */
  readonly scrape?: boolean;
  /** Runs the load with the given timing (which carries the window hooks). */
  readonly load: (timing: LoadTiming) => Promise<LoadResult>;
}

/** Runs one load measurement and gathers the server-side numbers of its window. */
export async function measure(options: MeasureOptions, timing: LoadTiming): Promise<Measurement> {
  await settleGenerator();
  const pid = options.server.child.pid;
  let cpu0: number | undefined;
  let cpu1: number | undefined;
  let t0 = 0;
  let t1 = 0;
  let m0: MetricsSnapshot | undefined;
  let m1: MetricsSnapshot | undefined;
  const window: WindowHooks = {
    async opened() {
      if (options.scrape === true) m0 = await scrapeMetrics(options.server.url);
      cpu0 = await processTreeCpuSeconds(pid);
      t0 = performance.now();
    },
    async closed() {
      t1 = performance.now();
      cpu1 = await processTreeCpuSeconds(pid);
      if (options.scrape === true) m1 = await scrapeMetrics(options.server.url);
    },
  };
  const load = await options.load({ ...timing, window });
  const rows = options.rowsPerRequest ?? 1;
  const rss = await processTreeRssBytes(pid);
  return {
    server: options.serverName,
    protocol: options.protocol,
    rowsPerRequest: rows,
    generator: options.generator ?? "node",
    load,
    rowsPerSecond: load.throughput * rows,
    serverCpuCores: cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) / ((t1 - t0) / 1000),
    serverRssMb: rss === undefined ? undefined : rss / 1024 / 1024,
    serverView: m0 === undefined || m1 === undefined ? undefined : serverView(m0, m1),
  };
}

/** The measurement with the highest throughput among those whose p99 is within `maxP99Ms`; undefined when none is. */
export function best(
  measurements: readonly Measurement[],
  maxP99Ms = Number.POSITIVE_INFINITY,
): Measurement | undefined {
  const within = measurements.filter((m) => m.load.latencyMs.p99 <= maxP99Ms);
  return [...within].sort((a, b) => b.load.throughput - a.load.throughput)[0];
}
