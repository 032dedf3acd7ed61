/**
 * Single-row unary scenarios, one per protocol: a closed-loop concurrency sweep against mlpipe and,
 * in the same run, against the no-op transport ceiling over the same protocol; for JSON /predict
 * also against the naive Node server and the FastAPI stack.
 */
import type { UnaryProtocol } from "../lib/inference-clients.js";
import type { StartedServer } from "../lib/inference-servers.js";
import { best, type Measurement } from "../lib/measurement.js";
import { processRssBytes, processTree } from "../lib/process-cpu.js";
import type { ChartSeries } from "../lib/svg-chart.js";
import { failures, seriesOf, sweepUnary } from "../lib/sweep.js";
import type { Scenario, ScenarioResult } from "../scenario.js";

/** The p99 bound of the inference issue's JSON /predict target, ms. */
export const p99BoundMs = 10;

const ratio = (a: Measurement | undefined, b: Measurement | undefined): number =>
  a === undefined || b === undefined || b.load.throughput === 0 ? 0 : a.load.throughput / b.load.throughput;

/**
 * Resident memory of a server's processes after its sweep, MB: total, largest process and process
 * count (tsx's esbuild helper included: it runs beside every mlpipe process started through tsx).
 */
async function memoryOf(server: StartedServer, prefix: string): Promise<Record<string, number>> {
  const pids = await processTree(server.child.pid);
  const rss = (await Promise.all(pids.map(processRssBytes))).filter((r): r is number => r !== undefined);
  const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
  return {
    [`${prefix}_total_mb`]: mb(rss.reduce((a, b) => a + b, 0)),
    [`${prefix}_max_process_mb`]: mb(Math.max(0, ...rss)),
    [`${prefix}_processes`]: rss.length,
  };
}

/** The single-row scenario of one protocol. */
export function predictUnaryScenario(protocol: UnaryProtocol): Scenario {
  return {
    description:
      protocol === "http-json"
        ? "JSON POST /predict, one row per request: mlpipe vs no-op ceiling, naive Node server, FastAPI + sklearn"
        : `${protocol} Predict, one row per request: mlpipe vs the no-op RPC on the same transport stack`,
    async run(profile, fx): Promise<ScenarioResult> {
      const mlpipe = await fx.mlpipe();
      const noop = await fx.noop();
      const ours = await sweepUnary(mlpipe, "mlpipe", protocol, fx.rows, profile);
      const ceiling = await sweepUnary(noop, "noop", protocol, fx.rows, profile);
      const top = best(ours);
      const topWithinBound = best(ours, p99BoundMs);
      const metrics: Record<string, number> = {
        requests_per_second: top?.load.throughput ?? 0,
        p99_ms_at_best: top?.load.latencyMs.p99 ?? 0,
        requests_per_second_p99_under_10ms: topWithinBound?.load.throughput ?? 0,
        mean_batch_size_at_best: top?.serverView?.meanBatchSize ?? 0,
        server_cpu_cores_at_best: top?.serverCpuCores ?? 0,
        noop_requests_per_second: best(ceiling)?.load.throughput ?? 0,
        ratio_to_noop: ratio(top, best(ceiling)),
      };
      const measurements = [...ours, ...ceiling];
      const series: ChartSeries[] = [
        seriesOf(`mlpipe ${protocol}`, ours, "requests/s"),
        seriesOf(`no-op ${protocol}`, ceiling, "requests/s"),
      ];
      const skipped: string[] = [];
      if (protocol === "http-json" || protocol === "grpc") {
        // Before/after of issue 16 in the same run: the same server in one process.
        const single = await fx.mlpipeSingleProcess();
        const one = await sweepUnary(single, "mlpipe-1-process", protocol, fx.rows, profile);
        measurements.push(...one);
        series.push(seriesOf(`mlpipe ${protocol}, 1 process`, one, "requests/s"));
        metrics.single_process_requests_per_second = best(one)?.load.throughput ?? 0;
        metrics.single_process_p99_ms_at_best = best(one)?.load.latencyMs.p99 ?? 0;
        metrics.ratio_to_single_process = ratio(top, best(one));
        Object.assign(metrics, await memoryOf(mlpipe, "rss"), await memoryOf(single, "single_process_rss"));
      }
      if (protocol === "http-json") {
        // wrk when installed, else the Node generator (lib/sweep.ts): every server of the scenario
        // alike, but numbers of the two are not comparable, so the results say which it was.
        metrics.generator_is_wrk = ours.every((m) => m.generator === "wrk") ? 1 : 0;
        const naive = await sweepUnary(await fx.naive(), "naive-node", protocol, fx.rows, profile);
        measurements.push(...naive);
        series.push(seriesOf("naive node http-json", naive, "requests/s"));
        metrics.naive_requests_per_second = best(naive)?.load.throughput ?? 0;
        metrics.ratio_to_naive = ratio(top, best(naive));
        const fastapi = await fx.fastapi();
        const fastapiWorkers = await fx.fastapiWorkers();
        if (fastapi === undefined || fastapiWorkers === undefined) {
          skipped.push(
            "FastAPI baseline: no python3 with fastapi, uvicorn and sklearn (apt-get install python3-fastapi python3-uvicorn python3-sklearn)",
          );
        } else {
          const theirs = await sweepUnary(fastapi, "fastapi", protocol, fx.rows, profile);
          const theirsWorkers = await sweepUnary(fastapiWorkers, "fastapi-2-workers", protocol, fx.rows, profile);
          measurements.push(...theirs, ...theirsWorkers);
          series.push(seriesOf("fastapi+sklearn http-json", theirs, "requests/s"));
          series.push(seriesOf("fastapi+sklearn, 2 uvicorn workers", theirsWorkers, "requests/s"));
          metrics.fastapi_requests_per_second = best(theirs)?.load.throughput ?? 0;
          // The target: mlpipe's best rate with p99 under the bound, against the best rate at any
          // latency of the stack the issue measured (one uvicorn process). The smoke floor uses
          // best against best, which noise moves less.
          metrics.ratio_to_fastapi = ratio(topWithinBound, best(theirs));
          metrics.ratio_to_fastapi_best = ratio(top, best(theirs));
          // Reported beside it: the same stack given a uvicorn worker per core.
          metrics.fastapi_2_workers_requests_per_second = best(theirsWorkers)?.load.throughput ?? 0;
          metrics.ratio_to_fastapi_2_workers = ratio(topWithinBound, best(theirsWorkers));
        }
      }
      // Baselines failing under load (and the single-process mlpipe: it is today's server, measured for comparison) is their result, not a defect of mlpipe: only mlpipe and the
      // ceiling (same stack) count as failures.
      return { metrics, errorCount: failures(ours) + failures(ceiling), measurements, series, skipped };
    },
  };
}
