/**
 * Many-row scenarios: PredictBatch with 1024 rows per request (compared with onnxruntime-node run
 * in-process on the same 1024-row batches), and PredictStream with single rows over a few
 * long-lived streams (a sweep over rows in flight).
 */
import { inProcessRowsPerSecond } from "../baselines/in-process-ort.js";
import { createBatchClient, createStreamClient } from "../lib/inference-clients.js";
import type { Measurement } from "../lib/measurement.js";
import { failures, seriesOf, sweep } from "../lib/sweep.js";
import type { Scenario, ScenarioResult } from "../scenario.js";

/** Rows per PredictBatch request. */
export const batchRows = 1024;

/** PredictStream calls the rows are spread over. */
export const streamCount = 4;

const bestRows = (ms: readonly Measurement[]): Measurement | undefined =>
  [...ms].sort((a, b) => b.rowsPerSecond - a.rowsPerSecond)[0];

/** PredictBatch, 1024 rows per request, over gRPC. */
export const predictBatchScenario: Scenario = {
  description: `gRPC PredictBatch with ${batchRows} rows per request vs onnxruntime-node in-process on the same batches`,
  async run(profile, fx): Promise<ScenarioResult> {
    const mlpipe = await fx.mlpipe();
    const ours = await sweep({
      server: mlpipe,
      serverName: "mlpipe",
      protocol: "grpc-batch",
      client: createBatchClient(mlpipe.url, fx.rows, batchRows),
      concurrencies: profile.batchConcurrencies,
      profile,
      rowsPerRequest: batchRows,
      scrape: true,
    });
    console.error("  in-process onnxruntime-node");
    const inProcess = await inProcessRowsPerSecond(fx.models.iris, fx.rows, batchRows, profile);
    const top = bestRows(ours);
    return {
      metrics: {
        rows_per_second: top?.rowsPerSecond ?? 0,
        p99_ms_at_best: top?.load.latencyMs.p99 ?? 0,
        in_process_rows_per_second: inProcess,
        ratio_to_in_process: inProcess === 0 ? 0 : (top?.rowsPerSecond ?? 0) / inProcess,
      },
      errorCount: failures(ours),
      measurements: ours,
      series: [seriesOf("mlpipe grpc PredictBatch x1024", ours, "rows/s")],
      skipped: [],
    };
  },
};

/** PredictStream, one row per message, over gRPC. */
export const predictStreamScenario: Scenario = {
  description: `gRPC PredictStream, one row per message over ${streamCount} streams, swept over rows in flight`,
  async run(profile, fx): Promise<ScenarioResult> {
    const mlpipe = await fx.mlpipe();
    const ours = await sweep({
      server: mlpipe,
      serverName: "mlpipe",
      protocol: "grpc-stream",
      client: createStreamClient(mlpipe.url, fx.rows, streamCount),
      concurrencies: profile.streamWindows,
      profile,
      scrape: true,
    });
    const top = bestRows(ours);
    return {
      metrics: {
        rows_per_second: top?.rowsPerSecond ?? 0,
        p99_ms_at_best: top?.load.latencyMs.p99 ?? 0,
        mean_batch_size_at_best: top?.serverView?.meanBatchSize ?? 0,
      },
      errorCount: failures(ours),
      measurements: ours,
      series: [seriesOf("mlpipe grpc PredictStream", ours, "rows/s")],
      skipped: [],
    };
  },
};
