/**
 * Benchmark runner: `npm run bench -- [scenario ...] [--quick | --smoke] [--out FILE] [--list]`.
 *
 * Runs the named scenarios (all when none is named; the smoke set with --smoke), prints a table
 * of every measurement and a table of the metrics against bench/targets.json, writes the results
 * as JSON (default bench/results/latest.json, or smoke.json) and the latency-throughput charts as
 * SVG beside it. Exits 1 when a target is missed or a request failed unexpectedly: full and quick
 * runs check the targets' `min`/`max`, smoke runs their conservative `smokeMin`/`smokeMax` floors.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { createBenchFixtures } from "./lib/bench-fixtures.js";
import { repoRoot } from "./lib/child-server.js";
import type { Measurement } from "./lib/measurement.js";
import { renderLatencyChart } from "./lib/svg-chart.js";
import type { BenchProfile, ScenarioResult } from "./scenario.js";
import { scenarios, smokeScenarios } from "./scenario-registry.js";

/** A target of bench/targets.json. */
interface Target {
  /** Metric name, as "<scenario>.<metric>". */
  readonly metric: string;
  readonly min?: number;
  readonly max?: number;
  /** Floors of the smoke run: loose enough that machine noise alone does not trip them. */
  readonly smokeMin?: number;
  readonly smokeMax?: number;
  /** Where the target comes from (issue, README). */
  readonly why: string;
}

const profiles: Record<BenchProfile["name"], BenchProfile> = {
  full: {
    name: "full",
    warmupSeconds: 2,
    durationSeconds: 8,
    concurrencies: [1, 8, 16, 32, 64, 256],
    // Requests in flight per many-row measurement: with 16384-row requests, 4 stay within the
    // default MAX_QUEUE_SIZE (65536 rows) while both workers are busy.
    batchConcurrencies: [1, 2, 4],
    streamWindows: [64, 256, 1024],
    swaps: 20,
    promotions: 20,
    tracking: {
      durationSeconds: 20,
      warmupSeconds: 5,
      clients: 4,
      pointsPerBatch: 1000,
      searchRuns: 100_000,
      searchQueries: 300,
    },
  },
  quick: {
    name: "quick",
    warmupSeconds: 1,
    durationSeconds: 3,
    concurrencies: [1, 16, 64],
    batchConcurrencies: [2, 4],
    streamWindows: [256],
    swaps: 20,
    promotions: 8,
    tracking: {
      durationSeconds: 5,
      warmupSeconds: 2,
      clients: 4,
      pointsPerBatch: 1000,
      searchRuns: 20_000,
      searchQueries: 60,
    },
  },
  smoke: {
    name: "smoke",
    warmupSeconds: 0.5,
    durationSeconds: 1.5,
    concurrencies: [16, 64],
    batchConcurrencies: [4],
    streamWindows: [256],
    swaps: 4,
    promotions: 3,
    tracking: {
      durationSeconds: 3,
      warmupSeconds: 1,
      clients: 4,
      pointsPerBatch: 1000,
      searchRuns: 10_000,
      searchQueries: 30,
    },
  },
};

const fixed = (v: number | undefined, digits: number): string => (v === undefined ? "-" : v.toFixed(digits));

function measurementRow(scenario: string, m: Measurement): string {
  const l = m.load.latencyMs;
  const load = m.load.concurrency === undefined ? `rate ${m.load.targetRate}` : `c ${m.load.concurrency}`;
  const errors = Object.entries(m.load.errors)
    .map(([code, n]) => `${code}:${n}`)
    .join(" ");
  // Measurements not from the Node generator say which one sent them (JSON /predict: wrk).
  const protocol = m.generator === undefined || m.generator === "node" ? m.protocol : `${m.protocol} (${m.generator})`;
  return `| ${scenario} | ${m.server} | ${protocol} | ${load} | ${fixed(m.load.throughput, 0)} | ${fixed(m.rowsPerSecond, 0)} | ${fixed(l.p50, 2)} | ${fixed(l.p90, 2)} | ${fixed(l.p99, 2)} | ${fixed(l.p999, 2)} | ${fixed(l.max, 1)} | ${errors || "0"} | ${fixed(m.serverCpuCores, 2)} | ${fixed(m.load.generatorCpuCores, 2)} | ${fixed(m.serverView?.meanBatchSize, 1)} | ${fixed(m.serverView?.meanQueueMs, 2)} |`;
}

function bound(min: number | undefined, max: number | undefined): string {
  return [min === undefined ? "" : `>= ${min}`, max === undefined ? "" : `<= ${max}`].join(" ").trim();
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: "boolean", default: false },
      smoke: { type: "boolean", default: false },
      out: { type: "string" },
      list: { type: "boolean", default: false },
    },
  });
  if (values.list === true) {
    for (const [name, s] of Object.entries(scenarios)) console.log(`${name.padEnd(26)} ${s.description}`);
    return;
  }
  const profile = profiles[values.smoke === true ? "smoke" : values.quick === true ? "quick" : "full"];
  const names =
    positionals.length > 0 ? positionals : profile.name === "smoke" ? smokeScenarios : Object.keys(scenarios);
  const unknown = names.filter((n) => scenarios[n] === undefined);
  if (unknown.length > 0) {
    console.error(`unknown scenario(s): ${unknown.join(", ")}; known: ${Object.keys(scenarios).join(", ")}`);
    process.exit(2);
  }
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryBytes: totalmem(),
    node: process.version,
    loadAverageAtStart: loadavg(),
  };
  const fixtures = createBenchFixtures();
  const results: Record<string, ScenarioResult> = {};
  const started = performance.now();
  try {
    for (const name of names) {
      const scenario = scenarios[name];
      if (scenario === undefined) continue;
      console.error(`running ${name} (${profile.name})...`);
      results[name] = await scenario.run(profile, fixtures);
    }
  } finally {
    await fixtures.close();
  }
  const seconds = (performance.now() - started) / 1000;

  console.log(
    "\n| scenario | server | protocol | load | req/s | rows/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors | server CPU | generator CPU | mean batch | queue ms |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const [name, r] of Object.entries(results)) for (const m of r.measurements) console.log(measurementRow(name, m));

  const targets = JSON.parse(await readFile(join(repoRoot, "bench", "targets.json"), "utf8")) as { targets: Target[] };
  const failures: string[] = [];
  console.log("\n| scenario | metric | value | target |\n|---|---|---|---|");
  for (const [name, r] of Object.entries(results)) {
    for (const [metric, value] of Object.entries(r.metrics)) {
      const t = targets.targets.find((x) => x.metric === `${name}.${metric}`);
      const [min, max] = profile.name === "smoke" ? [t?.smokeMin, t?.smokeMax] : [t?.min, t?.max];
      const ok = (min === undefined || value >= min) && (max === undefined || value <= max);
      const b = bound(min, max);
      if (!ok) failures.push(`${name}.${metric} = ${value.toFixed(3)} misses ${b} (${t?.why ?? ""})`);
      const digits = metric.includes("per_second") ? 0 : 3;
      console.log(`| ${name} | ${metric} | ${value.toFixed(digits)} | ${b}${ok ? "" : " MISSED"} |`);
    }
    for (const s of r.skipped) console.log(`| ${name} | skipped | | ${s} |`);
    if (r.errorCount > 0) failures.push(`${name}: ${r.errorCount} requests failed unexpectedly`);
  }

  const out = values.out ?? join(repoRoot, "bench", "results", profile.name === "smoke" ? "smoke.json" : "latest.json");
  await mkdir(dirname(out), { recursive: true });
  await writeFile(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        profile,
        seconds,
        machine: { ...machine, loadAverageAtEnd: loadavg() },
        results,
      },
      null,
      2,
    )}\n`,
  );
  const series = Object.values(results).flatMap((r) => r.series);
  const base = out.replace(/\.json$/, "");
  await writeFile(
    `${base}-requests.svg`,
    renderLatencyChart(
      "Single-row requests: latency against throughput",
      series.filter((s) => s.unit === "requests/s"),
    ),
  );
  await writeFile(
    `${base}-rows.svg`,
    renderLatencyChart(
      "Many-row requests (latency per request): latency against rows/s",
      series.filter((s) => s.unit === "rows/s"),
    ),
  );
  console.log(
    `\n${seconds.toFixed(0)} s; results written to ${out}, charts to ${base}-requests.svg and ${base}-rows.svg`,
  );
  if (failures.length > 0) {
    console.error(`\nFAILED:\n${failures.join("\n")}`);
    process.exit(1);
  }
}

await main();
