/**
 * Many-row scenarios: PredictBatch (compared with onnxruntime-node run in-process on batches of the
 * same size), and PredictStream tensor messages over a few long-lived streams, each at 1024 and at
 * 16384 rows per request or message: a call costs the same fixed transport work whatever its
 * size, so rows/s depends on how many rows share it, and both sizes are reported. Both ask for
 * the fast form (RESPONSE_FORM_TENSORS: raw output tensors, no per-row Prediction messages); one
 * measurement of the older forms (per-row predictions, one row per stream message) is kept beside
 * them for comparison.
 */
import { ResponseForm } from "../../gen/mlpipe/inference/v1/inference_pb.js";
import { inProcessRowsPerSecond } from "../baselines/in-process-ort.js";
import {
  createBatchClient,
  createModelInferClient,
  createStreamClient,
  type InferenceClient,
} from "../lib/inference-clients.js";
import type { StartedServer } from "../lib/inference-servers.js";
import type { Measurement } from "../lib/measurement.js";
import { failures, seriesOf, sweep } from "../lib/sweep.js";
import type { BenchProfile, Scenario, ScenarioResult } from "../scenario.js";

/** Rows per PredictBatch request and per PredictStream tensor message: a small and a large size. */
export const batchRowSizes = [1024, 16384] as const;

/** The size the per-row-predictions comparison and the in-process baseline use. */
const batchRows = batchRowSizes[0];

/** PredictStream calls the messages are spread over. */
export const streamCount = 4;

/** One sweep over `profile.batchConcurrencies` per size of {@link batchRowSizes}, in that order. */
async function sweepSizes(
  server: StartedServer,
  protocol: string,
  profile: BenchProfile,
  client: (size: number) => InferenceClient,
): Promise<Measurement[][]> {
  const bySize: Measurement[][] = [];
  for (const size of batchRowSizes) {
    bySize.push(
      await sweep({
        server,
        serverName: "mlpipe",
        protocol: `${protocol}-x${size}`,
        client: client(size),
        concurrencies: profile.batchConcurrencies,
        profile,
        rowsPerRequest: size,
        scrape: true,
      }),
    );
  }
  return bySize;
}

const bestRows = (ms: readonly Measurement[]): Measurement | undefined =>
  [...ms].sort((a, b) => b.rowsPerSecond - a.rowsPerSecond)[0];

/** The metrics every many-row scenario reports: its best rate over both sizes, where, its p99 there, and each size's best. */
function sizeMetrics(bySize: readonly (readonly Measurement[])[], perRequest: string): Record<string, number> {
  const top = bestRows(bySize.flat());
  return {
    rows_per_second: top?.rowsPerSecond ?? 0,
    [`rows_per_${perRequest}_at_best`]: top?.rowsPerRequest ?? 0,
    p99_ms_at_best: top?.load.latencyMs.p99 ?? 0,
    ...Object.fromEntries(
      batchRowSizes.map((size, i) => [`rows_per_second_x${size}`, bestRows(bySize[i] ?? [])?.rowsPerSecond ?? 0]),
    ),
  };
}

/** PredictBatch over gRPC, at each of {@link batchRowSizes} rows per request. */
export const predictBatchScenario: Scenario = {
  description: `gRPC PredictBatch with ${batchRowSizes.join(" and ")} rows per request (raw tensor answers; one run with per-row predictions) vs onnxruntime-node in-process on the same batches`,
  async run(profile, fx): Promise<ScenarioResult> {
    const mlpipe = await fx.mlpipe();
    const bySize = await sweepSizes(mlpipe, "grpc-batch", profile, (size) =>
      createBatchClient(mlpipe.url, fx.rows, size, ResponseForm.TENSORS),
    );
    const ours = bySize.flat();
    const top = bestRows(ours);
    const small = bestRows(bySize[0] ?? []);
    const withPredictions = await sweep({
      server: mlpipe,
      serverName: "mlpipe",
      protocol: "grpc-batch-predictions",
      client: createBatchClient(mlpipe.url, fx.rows, batchRows, ResponseForm.PREDICTIONS_AND_TENSORS),
      concurrencies: [small?.load.concurrency ?? 2],
      profile,
      rowsPerRequest: batchRows,
      scrape: true,
    });
    // Before/after of issue 16 in the same run: the best size and concurrency against one process.
    const single = await fx.mlpipeSingleProcess();
    const topRows = top?.rowsPerRequest ?? batchRows;
    const oneProcess = await sweep({
      server: single,
      serverName: "mlpipe-1-process",
      protocol: `grpc-batch-x${topRows}`,
      client: createBatchClient(single.url, fx.rows, topRows, ResponseForm.TENSORS),
      concurrencies: [top?.load.concurrency ?? 2],
      profile,
      rowsPerRequest: topRows,
      scrape: true,
    });
    const singleRows = bestRows(oneProcess)?.rowsPerSecond ?? 0;
    console.error("  in-process onnxruntime-node");
    const inProcess = await inProcessRowsPerSecond(fx.models.iris, fx.rows, batchRows, profile);
    return {
      metrics: {
        ...sizeMetrics(bySize, "request"),
        predictions_form_rows_per_second: bestRows(withPredictions)?.rowsPerSecond ?? 0,
        in_process_rows_per_second: inProcess,
        single_process_rows_per_second: singleRows,
        ratio_to_single_process: singleRows === 0 ? 0 : (top?.rowsPerSecond ?? 0) / singleRows,
        ratio_to_in_process: inProcess === 0 ? 0 : (small?.rowsPerSecond ?? 0) / inProcess,
      },
      errorCount: failures([...ours, ...withPredictions]),
      measurements: [...ours, ...withPredictions, ...oneProcess],
      series: [
        ...batchRowSizes.map((size, i) => seriesOf(`mlpipe grpc PredictBatch x${size}`, bySize[i] ?? [], "rows/s")),
        seriesOf(`mlpipe grpc PredictBatch x${batchRows}, per-row predictions`, withPredictions, "rows/s"),
      ],
      skipped: [],
    };
  },
};

/**
 * The Open Inference Protocol's ModelInfer over gRPC (raw contents, as tritonclient sends them)
 * beside PredictBatch in the same run, at each of {@link batchRowSizes} rows per request: the
 * adapter's cost is the gap between the two.
 */
export const oipModelInferScenario: Scenario = {
  description: `gRPC ModelInfer (Open Inference Protocol v2, raw contents) with ${batchRowSizes.join(" and ")} rows per request, beside PredictBatch (raw tensor answers) measured in the same run`,
  async run(profile, fx): Promise<ScenarioResult> {
    const mlpipe = await fx.mlpipe();
    const oip = await sweepSizes(mlpipe, "grpc-model-infer", profile, (size) =>
      createModelInferClient(mlpipe.url, fx.rows, size),
    );
    const batch = await sweepSizes(mlpipe, "grpc-batch", profile, (size) =>
      createBatchClient(mlpipe.url, fx.rows, size, ResponseForm.TENSORS),
    );
    const top = bestRows(oip.flat());
    const batchTop = bestRows(batch.flat());
    const batchRate = batchTop?.rowsPerSecond ?? 0;
    return {
      metrics: {
        ...sizeMetrics(oip, "request"),
        predict_batch_rows_per_second: batchRate,
        ratio_to_predict_batch: batchRate === 0 ? 0 : (top?.rowsPerSecond ?? 0) / batchRate,
      },
      errorCount: failures([...oip.flat(), ...batch.flat()]),
      measurements: [...oip.flat(), ...batch.flat()],
      series: [
        ...batchRowSizes.map((size, i) => seriesOf(`mlpipe grpc ModelInfer x${size}`, oip[i] ?? [], "rows/s")),
        ...batchRowSizes.map((size, i) => seriesOf(`mlpipe grpc PredictBatch x${size}`, batch[i] ?? [], "rows/s")),
      ],
      skipped: [],
    };
  },
};

/** PredictStream over gRPC: tensor messages at each of {@link batchRowSizes} rows, and one-row messages (the older form) for comparison. */
export const predictStreamScenario: Scenario = {
  description: `gRPC PredictStream, ${batchRowSizes.join(" and ")}-row tensor messages over ${streamCount} streams swept over messages in flight; and one row per message, swept over rows in flight`,
  async run(profile, fx): Promise<ScenarioResult> {
    const mlpipe = await fx.mlpipe();
    const bySize = await sweepSizes(mlpipe, "grpc-stream", profile, (size) =>
      createStreamClient(mlpipe.url, fx.rows, streamCount, size),
    );
    const ours = bySize.flat();
    const oneRow = await sweep({
      server: mlpipe,
      serverName: "mlpipe",
      protocol: "grpc-stream-one-row",
      client: createStreamClient(mlpipe.url, fx.rows, streamCount, 1),
      concurrencies: profile.streamWindows,
      profile,
      scrape: true,
    });
    return {
      metrics: {
        ...sizeMetrics(bySize, "message"),
        one_row_messages_rows_per_second: bestRows(oneRow)?.rowsPerSecond ?? 0,
        one_row_messages_mean_batch_size: bestRows(oneRow)?.serverView?.meanBatchSize ?? 0,
      },
      errorCount: failures([...ours, ...oneRow]),
      measurements: [...ours, ...oneRow],
      series: [
        ...batchRowSizes.map((size, i) => seriesOf(`mlpipe grpc PredictStream x${size}`, bySize[i] ?? [], "rows/s")),
        seriesOf("mlpipe grpc PredictStream, one row per message", oneRow, "rows/s"),
      ],
      skipped: [],
    };
  },
};
