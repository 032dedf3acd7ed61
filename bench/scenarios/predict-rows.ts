/**
 * Many-row scenarios: PredictBatch with 1024 rows per request (compared with onnxruntime-node run
 * in-process on the same 1024-row batches), and PredictStream with 1024-row tensor messages over a
 * few long-lived streams. Both ask for the fast form (RESPONSE_FORM_TENSORS: raw output tensors,
 * no per-row Prediction messages); one measurement of the older forms (per-row predictions,
 * one row per stream message) is kept beside them for comparison.
 */
import { ResponseForm } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { inProcessRowsPerSecond } from "../baselines/in-process-ort.js";
import { createBatchClient, createStreamClient } from "../lib/inference-clients.js";
import type { Measurement } from "../lib/measurement.js";
import { failures, seriesOf, sweep } from "../lib/sweep.js";
import type { Scenario, ScenarioResult } from "../scenario.js";

/** Rows per PredictBatch request and per PredictStream tensor message. */
export const batchRows = 1024;

/** PredictStream calls the messages are spread over. */
export const streamCount = 4;

const bestRows = (ms: readonly Measurement[]): Measurement | undefined =>
  [...ms].sort((a, b) => b.rowsPerSecond - a.rowsPerSecond)[0];

/** PredictBatch, 1024 rows per request, over gRPC. */
export const predictBatchScenario: Scenario = {
  description: `gRPC PredictBatch with ${batchRows} rows per request (raw tensor answers; one run with per-row predictions) vs onnxruntime-node in-process on the same batches`,
  async run(profile, fx): Promise<ScenarioResult> {
    const mlpipe = await fx.mlpipe();
    const ours = await sweep({
      server: mlpipe,
      serverName: "mlpipe",
      protocol: "grpc-batch",
      client: createBatchClient(mlpipe.url, fx.rows, batchRows, ResponseForm.TENSORS),
      concurrencies: profile.batchConcurrencies,
      profile,
      rowsPerRequest: batchRows,
      scrape: true,
    });
    const top = bestRows(ours);
    const withPredictions = await sweep({
      server: mlpipe,
      serverName: "mlpipe",
      protocol: "grpc-batch-predictions",
      client: createBatchClient(mlpipe.url, fx.rows, batchRows, ResponseForm.PREDICTIONS_AND_TENSORS),
      concurrencies: [top?.load.concurrency ?? 2],
      profile,
      rowsPerRequest: batchRows,
      scrape: true,
    });
    console.error("  in-process onnxruntime-node");
    const inProcess = await inProcessRowsPerSecond(fx.models.iris, fx.rows, batchRows, profile);
    return {
      metrics: {
        rows_per_second: top?.rowsPerSecond ?? 0,
        p99_ms_at_best: top?.load.latencyMs.p99 ?? 0,
        predictions_form_rows_per_second: bestRows(withPredictions)?.rowsPerSecond ?? 0,
        in_process_rows_per_second: inProcess,
        ratio_to_in_process: inProcess === 0 ? 0 : (top?.rowsPerSecond ?? 0) / inProcess,
      },
      errorCount: failures([...ours, ...withPredictions]),
      measurements: [...ours, ...withPredictions],
      series: [
        seriesOf("mlpipe grpc PredictBatch x1024", ours, "rows/s"),
        seriesOf("mlpipe grpc PredictBatch x1024, per-row predictions", withPredictions, "rows/s"),
      ],
      skipped: [],
    };
  },
};

/** PredictStream, 1024-row tensor messages (and one-row messages, the older form, for comparison), over gRPC. */
export const predictStreamScenario: Scenario = {
  description: `gRPC PredictStream, ${batchRows}-row tensor messages over ${streamCount} streams swept over messages in flight; and one row per message, swept over rows in flight`,
  async run(profile, fx): Promise<ScenarioResult> {
    const mlpipe = await fx.mlpipe();
    const ours = await sweep({
      server: mlpipe,
      serverName: "mlpipe",
      protocol: "grpc-stream",
      client: createStreamClient(mlpipe.url, fx.rows, streamCount, batchRows),
      concurrencies: profile.batchConcurrencies,
      profile,
      rowsPerRequest: batchRows,
      scrape: true,
    });
    const oneRow = await sweep({
      server: mlpipe,
      serverName: "mlpipe",
      protocol: "grpc-stream-one-row",
      client: createStreamClient(mlpipe.url, fx.rows, streamCount, 1),
      concurrencies: profile.streamWindows,
      profile,
      scrape: true,
    });
    const top = bestRows(ours);
    return {
      metrics: {
        rows_per_second: top?.rowsPerSecond ?? 0,
        p99_ms_at_best: top?.load.latencyMs.p99 ?? 0,
        one_row_messages_rows_per_second: bestRows(oneRow)?.rowsPerSecond ?? 0,
        one_row_messages_mean_batch_size: bestRows(oneRow)?.serverView?.meanBatchSize ?? 0,
      },
      errorCount: failures([...ours, ...oneRow]),
      measurements: [...ours, ...oneRow],
      series: [
        seriesOf(`mlpipe grpc PredictStream x${batchRows}`, ours, "rows/s"),
        seriesOf("mlpipe grpc PredictStream, one row per message", oneRow, "rows/s"),
      ],
      skipped: [],
    };
  },
};
