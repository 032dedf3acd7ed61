/** Closed-loop concurrency sweeps of one client against one server, and their chart series. */
import type { BenchProfile } from "../scenario.js";
import { createInferenceClient, type InferenceClient, type UnaryProtocol } from "./inference-clients.js";
import type { StartedServer } from "./inference-servers.js";
import { closedLoop } from "./load-generator.js";
import { type Measurement, measure } from "./measurement.js";
import type { ChartSeries } from "./svg-chart.js";

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

/** Runs the closed loop at each concurrency in turn, then closes the client. */
export async function sweep(options: SweepOptions): Promise<Measurement[]> {
  const out: Measurement[] = [];
  try {
    for (const concurrency of options.concurrencies) {
      console.error(`  ${options.serverName} ${options.protocol} c=${concurrency}`);
      out.push(
        await measure(
          {
            server: options.server,
            serverName: options.serverName,
            protocol: options.protocol,
            rowsPerRequest: options.rowsPerRequest ?? 1,
            scrape: options.scrape ?? false,
            load: (timing) => closedLoop(options.client.predict, concurrency, timing),
          },
          options.profile,
        ),
      );
    }
  } finally {
    options.client.close();
  }
  return out;
}

/** A single-row Predict sweep over `protocol`. */
export function sweepUnary(
  server: StartedServer,
  serverName: string,
  protocol: UnaryProtocol,
  rows: readonly (readonly number[])[],
  profile: BenchProfile,
): Promise<Measurement[]> {
  return sweep({
    server,
    serverName,
    protocol,
    client: createInferenceClient(protocol, server.url, rows),
    concurrencies: profile.concurrencies,
    profile,
    scrape: serverName === "mlpipe",
  });
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
