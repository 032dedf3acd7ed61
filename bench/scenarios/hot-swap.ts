/**
 * Hot swap under load: gRPC single-row clients keep the server busy while the served model is
 * swapped N times (bench/servers/swap-inference-server.ts triggers the model manager's swap on
 * SIGUSR2; each swap is waited for in GET /model/info). No request may fail. Also the memory
 * targets: the server's RSS with two workers and the small model under load, and its growth from
 * the first swap to the last (read under the same load after each swap).
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
      // Long enough for every swap (each takes a fraction of a second with a small model).
      const durationSeconds = Math.max(profile.durationSeconds, profile.swaps * 0.5);
      let rssBefore: number | undefined;
      let swapsDone = 0;
      const swapTimes: number[] = [];
      /** RSS after each swap landed (under the same load), bytes. */
      const rssAfterSwap: number[] = [];
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
                  rssBefore = await processRssBytes(server.child.pid);
                  const gap = (durationSeconds * 1000 * 0.8) / profile.swaps;
                  swapping = (async () => {
                    for (let i = 0; i < profile.swaps; i++) {
                      const want = String(i + 2);
                      const t0 = performance.now();
                      server.child.process.kill("SIGUSR2");
                      while ((await servedVersion(server.url)) !== want) await sleep(5);
                      swapTimes.push(performance.now() - t0);
                      swapsDone++;
                      const rss = await processRssBytes(server.child.pid);
                      if (rss !== undefined) rssAfterSwap.push(rss);
                      await sleep(Math.max(0, gap - (performance.now() - t0)));
                    }
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
      // Growth is counted from the first swap on: the first one sizes the allocator for two versions
      // side by side (the old one serves until the new one is warm), which every later swap reuses.
      const first = rssAfterSwap[0];
      const last = rssAfterSwap[rssAfterSwap.length - 1];
      return {
        metrics: {
          swaps_completed: swapsDone,
          failed_requests: failures([m]),
          requests_per_second: m.load.throughput,
          p99_ms: m.load.latencyMs.p99,
          max_ms: m.load.latencyMs.max,
          mean_swap_ms: swapTimes.length === 0 ? 0 : swapTimes.reduce((a, b) => a + b, 0) / swapTimes.length,
          rss_mb: mb(rssBefore),
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
