/**
 * Batching efficiency: 64 concurrent single-row gRPC clients; the server's /metrics says how many
 * rows each model run carried. The in-process ceiling is measured at that mean batch size.
 */
import { inProcessRowsPerSecond } from "../baselines/in-process-ort.js";
import { createInferenceClient } from "../lib/inference-clients.js";
import { failures, sweep } from "../lib/sweep.js";
import type { Scenario, ScenarioResult } from "../scenario.js";

/** Concurrent clients of the scenario (the number). */
export const batchingClients = 64;

/** 64 concurrent single-row clients. */
export const batchingScenario: Scenario = {
  description: `${batchingClients} concurrent single-row gRPC clients: mean batch size from /metrics, vs in-process at that batch size`,
  async run(profile, fx): Promise<ScenarioResult> {
    const mlpipe = await fx.mlpipe();
    const [m] = await sweep({
      server: mlpipe,
      serverName: "mlpipe",
      protocol: "grpc",
      client: createInferenceClient("grpc", mlpipe.url, fx.rows),
      concurrencies: [batchingClients],
      profile,
      scrape: true,
    });
    if (m === undefined) throw new Error("no measurement");
    const meanBatch = m.serverView?.meanBatchSize ?? 0;
    console.error(`  in-process onnxruntime-node at batch ${Math.max(1, Math.round(meanBatch))}`);
    const inProcess = await inProcessRowsPerSecond(
      fx.models.iris,
      fx.rows,
      Math.max(1, Math.round(meanBatch)),
      profile,
    );
    return {
      metrics: {
        mean_batch_size: meanBatch,
        mean_queue_ms: m.serverView?.meanQueueMs ?? 0,
        requests_per_second: m.load.throughput,
        p99_ms: m.load.latencyMs.p99,
        in_process_rows_per_second_same_batch: inProcess,
        ratio_to_in_process: inProcess === 0 ? 0 : m.rowsPerSecond / inProcess,
      },
      errorCount: failures([m]),
      measurements: [m],
      // One point, already on the predict-grpc line: not charted.
      series: [],
      skipped: [],
    };
  },
};
