/**
 * Hot swap under load: gRPC single-row clients keep the server busy while the served model is
 * swapped N times (bench/servers/swap-inference-server.ts triggers the model manager's swap on
 * SIGUSR2; each swap is waited for in GET /model/info). No request may fail. Also the memory
 * targets: the server's RSS with two workers and the small model under load (the highest sample
 * of the window), and its growth over the swaps.
 *
 * Growth compares two sampling phases under the same load, one right after the first swap (which
 * sizes the allocator for two versions side by side) and one after the last, by their medians
 * (RSS sampled every 200 ms). Single readings are not enough: under steady load without any swap,
 * RSS moves by ±10% as the three V8 heaps (main thread, two workers) grow and shrink between
 * collections, more than 20 swaps of a small model add.
 */
import { mlpipeWorkers } from "../lib/bench-fixtures.js";
import { createInferenceClient } from "../lib/inference-clients.js";
import { startMlpipeServer } from "../lib/inference-servers.js";
import { closedLoop, sleep } from "../lib/load-generator.js";
import { measure } from "../lib/measurement.js";
import { processRssBytes } from "../lib/process-cpu.js";
import { failures } from "../lib/sweep.js";
import type { Scenario, ScenarioResult } from "../scenario.js";

/** Concurrent clients during the swaps. */
export const swapClients = 16;

async function servedVersion(url: string): Promise<string> {
  const res = await fetch(new URL("/model/info", url));
  const body = (await res.json()) as { version?: unknown };
  return String(body.version);
}

/** The hot-swap scenario. */
export const hotSwapScenario: Scenario = {
  description: `${swapClients} gRPC clients while the model is hot-swapped repeatedly: zero failures, RSS and its growth`,
  async run(profile, fx): Promise<ScenarioResult> {
    const server = await startMlpipeServer({
      modelPath: fx.models.iris,
      workers: mlpipeWorkers,
      swapWith: fx.models.irisB,
    });
    try {
      const client = createInferenceClient("grpc", server.url, fx.rows);
      // RSS sampling phases: after the first swap, and after the last.
      const phaseSeconds = Math.max(1, profile.durationSeconds / 2);
      // Long enough for every swap (each takes a fraction of a second with a small model) and both phases.
      const durationSeconds = Math.max(profile.durationSeconds, profile.swaps * 0.5 + 2 * phaseSeconds);
      let swapsDone = 0;
      const swapTimes: number[] = [];
      /** Every RSS sample of the window, and those of the two phases, bytes. */
      const allRss: number[] = [];
      let afterFirst: number[] = [];
      let afterLast: number[] = [];
      const sampleRss = async (seconds: number): Promise<number[]> => {
        const samples: number[] = [];
        for (const end = performance.now() + seconds * 1000; performance.now() < end; await sleep(200)) {
          const rss = await processRssBytes(server.child.pid);
          if (rss !== undefined) samples.push(rss);
        }
        allRss.push(...samples);
        return samples;
      };
      let swapping: Promise<void> = Promise.resolve();
      const m = await measure(
        {
          server,
          serverName: "mlpipe",
          protocol: "grpc",
          scrape: true,
          load: (timing) =>
            closedLoop(client.predict, swapClients, {
              ...timing,
              window: {
                async opened() {
                  await timing.window?.opened();
                  const gap = ((durationSeconds - 2 * phaseSeconds) * 1000 * 0.8) / profile.swaps;
                  const swap = async (i: number): Promise<void> => {
                    const want = String(i + 2);
                    const t0 = performance.now();
                    server.child.process.kill("SIGUSR2");
                    while ((await servedVersion(server.url)) !== want) await sleep(5);
                    swapTimes.push(performance.now() - t0);
                    swapsDone++;
                    await sleep(Math.max(0, gap - (performance.now() - t0)));
                  };
                  swapping = (async () => {
                    await sampleRss(0.2);
                    await swap(0);
                    afterFirst = await sampleRss(phaseSeconds);
                    for (let i = 1; i < profile.swaps; i++) await swap(i);
                    afterLast = await sampleRss(phaseSeconds);
                  })();
                },
                async closed() {
                  await swapping;
                  await timing.window?.closed();
                },
              },
            }),
        },
        { warmupSeconds: profile.warmupSeconds, durationSeconds },
      );
      client.close();
      const mb = (b: number | undefined): number => (b === undefined ? 0 : b / 1024 / 1024);
      const median = (xs: readonly number[]): number | undefined => {
        const sorted = [...xs].sort((a, b) => a - b);
        return sorted[Math.floor(sorted.length / 2)];
      };
      const first = median(afterFirst);
      const last = median(afterLast);
      return {
        metrics: {
          swaps_completed: swapsDone,
          failed_requests: failures([m]),
          requests_per_second: m.load.throughput,
          p99_ms: m.load.latencyMs.p99,
          max_ms: m.load.latencyMs.max,
          mean_swap_ms: swapTimes.length === 0 ? 0 : swapTimes.reduce((a, b) => a + b, 0) / swapTimes.length,
          rss_mb: mb(allRss.length === 0 ? undefined : Math.max(...allRss)),
          rss_after_first_swap_mb: mb(first),
          rss_after_swaps_mb: mb(last),
          rss_growth_percent: first === undefined || last === undefined ? 0 : ((last - first) / first) * 100,
        },
        errorCount: failures([m]),
        measurements: [m],
        // One point, already on the predict-grpc line: not charted.
        series: [],
        skipped: [],
      };
    } finally {
      await server.child.stop();
    }
  },
};
