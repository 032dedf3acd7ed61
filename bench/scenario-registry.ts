/** Every benchmark scenario by name, in the order a full run takes them. */
import { errorTotal } from "./lib/load-generator.js";
import type { Scenario } from "./scenario.js";
import { batchingScenario } from "./scenarios/batching.js";
import { canaryShadowScenario } from "./scenarios/canary-shadow.js";
import { hotSwapScenario } from "./scenarios/hot-swap.js";
import { overloadScenario } from "./scenarios/overload.js";
import { oipModelInferScenario, predictBatchScenario, predictStreamScenario } from "./scenarios/predict-rows.js";
import { predictUnaryScenario } from "./scenarios/predict-unary.js";
import { registryPromotionScenario } from "./scenarios/registry-promotion.js";
import { type Driver, runIngest, runSearch } from "./scenarios/tracking.js";

function trackingScenarios(driver: Driver): Record<string, Scenario> {
  return {
    [`tracking-ingest-${driver}`]: {
      description: `LogBatch ingest on ${driver} (1000-point batches, 4 clients), vs direct SQL inserts`,
      async run(profile) {
        const r = await runIngest(driver, profile.tracking);
        return {
          metrics: {
            points_per_second: r.pointsPerSecond,
            batch_p99_ms: r.batchLatencyMs.p99,
            ...(Number.isNaN(r.ratioToDirectSql) ? {} : { ratio_to_direct_sql: r.ratioToDirectSql }),
          },
          errorCount: errorTotal(r.errors),
          measurements: [],
          series: [],
          skipped: [],
          detail: r,
        };
      },
    },
    [`tracking-search-${driver}`]: {
      description: `SearchRuns over seeded runs on ${driver}: metric filter + param/tag, order by metric`,
      async run(profile) {
        const r = await runSearch(driver, profile.tracking);
        return {
          metrics: { p50_ms: r.latencyMs.p50, p95_ms: r.latencyMs.p95, p99_ms: r.latencyMs.p99 },
          errorCount: errorTotal(r.errors),
          measurements: [],
          series: [],
          skipped: [],
          detail: r,
        };
      },
    },
  };
}

/** The scenarios, selectable by name on the command line. */
export const scenarios: Readonly<Record<string, Scenario>> = {
  "predict-grpc": predictUnaryScenario("grpc"),
  "predict-connect-binary": predictUnaryScenario("connect-binary"),
  "predict-connect-json": predictUnaryScenario("connect-json"),
  "predict-http-json": predictUnaryScenario("http-json"),
  "predict-batch": predictBatchScenario,
  "oip-model-infer": oipModelInferScenario,
  "predict-stream": predictStreamScenario,
  "batching-64-clients": batchingScenario,
  "overload-grpc": overloadScenario("grpc"),
  "overload-http-json": overloadScenario("http-json"),
  "hot-swap": hotSwapScenario,
  "registry-promotion": registryPromotionScenario,
  "canary-shadow": canaryShadowScenario,
  ...trackingScenarios("postgres"),
  ...trackingScenarios("pglite"),
};

/** The scenarios of the CI smoke run (`npm run bench:smoke`), at most about two minutes in all. */
export const smokeScenarios: readonly string[] = [
  "predict-grpc",
  "predict-http-json",
  "predict-batch",
  "batching-64-clients",
  "hot-swap",
  // About 13 s of the smoke run, mostly the registry's start-up: the only check of "the new
  // version within 2 s of the promotion", with a 5 s floor.
  "registry-promotion",
];
