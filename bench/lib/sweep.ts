/** Closed-loop concurrency sweeps of one client against one server, and their chart series. */
import type { BenchProfile } from "../scenario.js";
import {
  createInferenceClient,
  type InferenceClient,
  predictJsonBodies,
  type UnaryProtocol,
} from "./inference-clients.js";
import type { StartedServer } from "./inference-servers.js";
import { closedLoop, type LoadResult, type LoadTiming } from "./load-generator.js";
import { type LoadGenerator, type Measurement, measure } from "./measurement.js";
import type { ChartSeries } from "./svg-chart.js";
import { findWrk, wrkClosedLoop } from "./wrk-load.js";

/** Options of {@link sweep}. */
export interface SweepOptions {
  readonly server: StartedServer;
  readonly serverName: string;
  readonly protocol: string;
  /** The client; created once and reused over the whole sweep (its connections stay warm). */
  readonly client: InferenceClient;
  readonly concurrencies: readonly number[];
  readonly profile: BenchProfile;
  readonly rowsPerRequest?: number;
  /** Read mlpipe's /metrics over each window. */
  readonly scrape?: boolean;
}

/** Measures `load` at each concurrency in turn. */
async function sweepWith(
  options: Omit<SweepOptions, "client">,
  generator: LoadGenerator,
  load: (concurrency: number, timing: LoadTiming) => Promise<LoadResult>,
): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const concurrency of options.concurrencies) {
    console.error(`  ${options.serverName} ${options.protocol} c=${concurrency} (${generator})`);
    out.push(
      await measure(
        {
          server: options.server,
          serverName: options.serverName,
          protocol: options.protocol,
          rowsPerRequest: options.rowsPerRequest ?? 1,
          generator,
          scrape: options.scrape ?? false,
          load: (timing) => load(concurrency, timing),
        },
        options.profile,
      ),
    );
  }
  return out;
}

/** Runs the Node closed loop at each concurrency in turn, then closes the client. */
export async function sweep(options: SweepOptions): Promise<Measurement[]> {
  try {
    return await sweepWith(options, "node", (concurrency, timing) =>
      closedLoop(options.client.predict, concurrency, timing),
    );
  } finally {
    options.client.close();
  }
}

/**
 * A single-row Predict sweep over `protocol`. JSON /predict is driven by wrk when it is installed
 * (see lib/wrk-load.ts), for every server alike; otherwise, and for the other protocols, by the
 * Node client.
 */
export function sweepUnary(
  server: StartedServer,
  serverName: string,
  protocol: UnaryProtocol,
  rows: readonly (readonly number[])[],
  profile: BenchProfile,
): Promise<Measurement[]> {
  const options = {
    server,
    serverName,
    protocol,
    concurrencies: profile.concurrencies,
    profile,
    scrape: serverName === "mlpipe",
  };
  if (protocol === "http-json" && findWrk() !== undefined) {
    const url = `${server.url}/predict`;
    const bodies = predictJsonBodies(rows);
    return sweepWith(options, "wrk", (concurrency, timing) => wrkClosedLoop({ ...timing, url, bodies, concurrency }));
  }
  return sweep({ ...options, client: createInferenceClient(protocol, server.url, rows) });
}

/** The chart line of a sweep. */
export function seriesOf(name: string, measurements: readonly Measurement[], unit: ChartSeries["unit"]): ChartSeries {
  return {
    name,
    unit,
    points: measurements.map((m) => ({
      throughput: unit === "rows/s" ? m.rowsPerSecond : m.load.throughput,
      p50Ms: m.load.latencyMs.p50,
      p99Ms: m.load.latencyMs.p99,
      label: m.load.concurrency === undefined ? `rate=${m.load.targetRate}` : `c=${m.load.concurrency}`,
    })),
  };
}

/** Failed requests over the measurements. */
export function failures(measurements: readonly Measurement[]): number {
  return measurements.reduce((n, m) => n + Object.values(m.load.errors).reduce((a, b) => a + b, 0), 0);
}
