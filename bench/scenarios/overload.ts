/**
 * Load shedding: an open-loop rate at twice the saturation rate. Saturation is first measured with
 * a closed loop at 256 clients (the default in-flight limit: enough requests queued to keep both
 * workers' batches full); then a reference open loop at half of it gives the latency of a
 * server with headroom. Under 2x, accepted requests should keep close to that latency and the rest
 * should be refused quickly (RESOURCE_EXHAUSTED / 429), nothing else failing. Latency counts from
 * each request's intended send time.
 *
 * The server is mlpipe with a model whose rows cost 1 ms of worker time each (see
 * servers/row-cost-handler.ts): with the plain test model, twice mlpipe's saturation rate is more
 * than the load generator can send on the same 2 cores, and the scenario measured the generator.
 */
import { createInferenceClient, type UnaryProtocol } from "../lib/inference-clients.js";
import { openLoop } from "../lib/load-generator.js";
import { measure } from "../lib/measurement.js";
import { seriesOf, sweep } from "../lib/sweep.js";
import type { Scenario, ScenarioResult } from "../scenario.js";

/** The error codes of load shedding, by protocol. */
const shedCodes: Record<UnaryProtocol, string> = {
  grpc: "RESOURCE_EXHAUSTED",
  "connect-binary": "RESOURCE_EXHAUSTED",
  "connect-json": "RESOURCE_EXHAUSTED",
  "http-json": "http_429",
};

/** The overload scenario over `protocol`. */
export function overloadScenario(protocol: UnaryProtocol): Scenario {
  return {
    description: `${protocol} open loop at 2x the saturation rate: accepted latency vs a half-load reference, refusals`,
    async run(profile, fx): Promise<ScenarioResult> {
      const mlpipe = await fx.mlpipeRowCost();
      const client = createInferenceClient(protocol, mlpipe.url, fx.rows);
      const [saturation] = await sweep({
        server: mlpipe,
        serverName: "mlpipe",
        protocol,
        client: createInferenceClient(protocol, mlpipe.url, fx.rows),
        concurrencies: [256],
        profile,
        scrape: true,
      });
      const saturationRate = saturation?.load.throughput ?? 0;
      if (saturationRate === 0) throw new Error("saturation rate is 0");
      const atRate = async (factor: number) => {
        const rate = Math.round(saturationRate * factor);
        console.error(`  mlpipe ${protocol} open loop ${rate}/s (${factor}x saturation)`);
        return measure(
          {
            server: mlpipe,
            serverName: "mlpipe",
            protocol,
            scrape: true,
            // Two seconds of requests unanswered means the server is not shedding load; the rest
            // are counted as generator_backlog (an unexpected failure) instead of piling up.
            load: (timing) => openLoop(client.predict, { ...timing, rate, maxInFlight: rate * 2 }),
          },
          profile,
        );
      };
      try {
        const reference = await atRate(0.5);
        const overload = await atRate(2);
        const shed = shedCodes[protocol];
        const shedCount = overload.load.errors[shed] ?? 0;
        const total = overload.load.ok + Object.values(overload.load.errors).reduce((a, b) => a + b, 0);
        const unexpected = [reference, overload].reduce(
          (n, m) => n + Object.entries(m.load.errors).reduce((a, [code, count]) => a + (code === shed ? 0 : count), 0),
          0,
        );
        return {
          metrics: {
            saturation_requests_per_second: saturationRate,
            reference_p99_ms: reference.load.latencyMs.p99,
            accepted_requests_per_second: overload.load.throughput,
            accepted_p50_ms: overload.load.latencyMs.p50,
            accepted_p99_ms: overload.load.latencyMs.p99,
            accepted_p99_over_reference: overload.load.latencyMs.p99 / reference.load.latencyMs.p99,
            refused_share: total === 0 ? 0 : shedCount / total,
            refused_p99_ms: overload.load.errorLatencyMs.p99,
            generator_cpu_cores: overload.load.generatorCpuCores,
          },
          errorCount: unexpected,
          measurements: [...(saturation === undefined ? [] : [saturation]), reference, overload],
          series: [seriesOf(`mlpipe ${protocol} open loop`, [reference, overload], "requests/s")],
          skipped: [],
        };
      } finally {
        client.close();
      }
    },
  };
}
