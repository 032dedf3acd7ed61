/**
 * What a benchmark scenario is: a named measurement that returns named numbers (which
 * bench/targets.json refers to as "<scenario>.<metric>"), the individual load measurements behind
 * them, and the chart series it contributes.
 */
import type { BenchFixtures } from "./lib/bench-fixtures.js";
import type { Measurement } from "./lib/measurement.js";
import type { ChartSeries } from "./lib/svg-chart.js";
import type { TrackingBenchOptions } from "./scenarios/tracking.js";

/** How long and how wide a run measures. */
export interface BenchProfile {
  /** "full" (npm run bench), "quick" (--quick) or "smoke" (--smoke, CI). */
  readonly name: "full" | "quick" | "smoke";
  /** Warm-up seconds before each measurement, excluded. */
  readonly warmupSeconds: number;
  /** Measured seconds of each measurement. */
  readonly durationSeconds: number;
  /** Closed-loop concurrencies swept for single-row requests. */
  readonly concurrencies: readonly number[];
  /** Closed-loop concurrencies swept for PredictBatch and PredictStream tensor messages (1024 rows each). */
  readonly batchConcurrencies: readonly number[];
  /** Rows in flight swept for PredictStream with one row per message (the older form, for comparison). */
  readonly streamWindows: readonly number[];
  /** Hot swaps made under load. */
  readonly swaps: number;
  /** Registry promotions made under load (registry-promotion), one at a time. */
  readonly promotions: number;
  /** Settings of the tracking scenarios. */
  readonly tracking: TrackingBenchOptions;
}

/** A scenario's outcome. */
export interface ScenarioResult {
  /** Named numbers that targets refer to. */
  readonly metrics: Record<string, number>;
  /** Requests that failed unexpectedly (expected load-shedding answers are not counted). */
  readonly errorCount: number;
  /** The load measurements behind the metrics. */
  readonly measurements: readonly Measurement[];
  /** Lines for the latency-throughput chart. */
  readonly series: readonly ChartSeries[];
  /** Why the scenario (or part of it) did not run, e.g. a missing baseline. */
  readonly skipped: readonly string[];
  /** Anything else worth keeping in the JSON results. */
  readonly detail?: unknown;
}

/** A named scenario. */
export interface Scenario {
  /** One line for --list and the README. */
  readonly description: string;
  run(profile: BenchProfile, fixtures: BenchFixtures): Promise<ScenarioResult>;
}
