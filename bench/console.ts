/**
 * The web console's numbers (issue 15), measured in headless chromium against real servers:
 *
 * - `startup`: `npm start` on a fresh data directory (trains, registers and serves the demo model)
 *   until the first `POST /predict` answers 200. Target: under 10 s.
 * - `runs-page`: the runs page of an experiment with `--runs` runs (default 10,000, made through the
 *   tracking API): time from navigation start to the first page of runs rendered (the
 *   `mlpipe:runs-first-page` performance mark), with an empty browser cache and with the console's
 *   files cached; then pages 2 to 6 through the keyset page tokens; and SearchRuns alone for the
 *   first page. Target: first page under 1 s.
 * - `bundle`: the built console's files, raw and gzipped.
 *
 *   npx tsx bench/console.ts [--runs 10000] [--skip-startup] [--out bench/results/console.json] [--data-dir DIR]
 *
 * Making 10,000 runs takes minutes on 2 cores; with `--data-dir` the registry's data is kept there
 * and a later run with the same directory and `--runs` reuses it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { TrackingService } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import { launchBrowser } from "../test/support/browser.js";
import { freePort, repoRoot } from "./lib/child-server.js";
import { startRegistryProcess } from "./lib/registry-process.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10000" },
    "skip-startup": { type: "boolean", default: false },
    out: { type: "string", default: join(repoRoot, "bench", "results", "console.json") },
    "data-dir": { type: "string" },
  },
});
const runCount = Number(values.runs);
if (!Number.isInteger(runCount) || runCount < 1)
  throw new Error(`--runs must be a positive integer, got ${values.runs}`);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** The performance mark the runs page sets once its first page is rendered (console/src/pages/runs-page.tsx). */
const firstPageMark = "mlpipe:runs-first-page";

/** `npm start` on a fresh data directory until the first prediction answers; ms. */
async function measureStartup(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), "mlpipe-bench-startup-"));
  const inferencePort = await freePort();
  const registryPort = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn("npm", ["start"], {
    cwd: repoRoot,
    detached: true,
    stdio: "ignore",
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      MLPIPE_DATA_DIR: dataDir,
      HOST: "127.0.0.1",
      REGISTRY_PORT: String(registryPort),
      INFERENCE_PORT: String(inferencePort),
      npm_config_update_notifier: "false",
    },
  });
  try {
    const deadline = started + 120_000;
    for (;;) {
      const status = await fetch(`http://127.0.0.1:${inferencePort}/predict`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ features: [5.1, 3.5, 1.4, 0.2] }),
      }).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return performance.now() - started;
      if (performance.now() > deadline || child.exitCode !== null)
        throw new Error("npm start never served a prediction");
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGINT");
    const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, "SIGKILL"), 30_000);
    await exited;
    clearTimeout(timer);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Makes `count` runs with 3 params, 2 metrics and a tag each (two calls per run) in experiment
 * `console-bench-<count>`, unless it is already there; returns the experiment id.
 */
async function seedRuns(url: string, count: number): Promise<string> {
  const client = createClient(TrackingService, createGrpcTransport({ baseUrl: url }));
  const name = `console-bench-${count}`;
  const existing = await client.getExperimentByName({ name }).catch(() => undefined);
  if (existing?.experiment !== undefined) return existing.experiment.experimentId;
  const { experiment } = await client.createExperiment({ name });
  const experimentId = experiment?.experimentId ?? "";
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const { run } = await client.createRun({
        experimentId,
        runName: `run-${i}`,
        tags: [{ key: "team", value: i % 3 === 0 ? "a" : "b" }],
      });
      const runId = run?.info?.runId ?? "";
      await client.logBatch({
        runId,
        params: [
          { key: "lr", value: String(0.001 * (1 + (i % 100))) },
          { key: "epochs", value: String(10 * (1 + (i % 30))) },
          { key: "optimizer", value: i % 2 === 0 ? "adam" : "sgd" },
        ],
        metrics: [
          { key: "accuracy", value: 0.5 + (i % 500) / 1000, step: 1n },
          { key: "loss", value: 1 / (1 + (i % 700)), step: 1n },
        ],
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return experimentId;
}

/** Where a first page's time went, ms since navigation start (Navigation and Resource Timing). */
interface FirstPage {
  /** The `mlpipe:runs-first-page` mark: the first page of runs rendered. */
  readonly renderedMs: number;
  /** The console's code evaluated and its SearchRuns request sent. */
  readonly requestSentMs: number;
  /** The SearchRuns answer received. */
  readonly answerReceivedMs: number;
}

/** Timings of the runs page, ms. */
interface RunsPageTimings {
  readonly firstPageCold: FirstPage;
  readonly firstPageWarm: readonly FirstPage[];
  readonly nextPageMs: readonly number[];
  readonly searchRunsMs: readonly number[];
}

async function measureRunsPage(url: string, experimentId: string): Promise<RunsPageTimings> {
  const client = createClient(TrackingService, createGrpcTransport({ baseUrl: url }));
  const searchRunsMs: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    await client.searchRuns({ experimentIds: [experimentId], maxResults: 50, orderBy: ["start_time DESC"] });
    searchRunsMs.push(performance.now() - t);
  }
  const browser = await launchBrowser();
  try {
    const pageUrl = `${url}/runs?e=${experimentId}`;
    const firstPage = async (): Promise<FirstPage> => {
      const page = await browser.context.newPage();
      try {
        await page.goto(pageUrl);
        // Functions, not strings: the console's CSP forbids eval, which string predicates need.
        await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, firstPageMark, {
          timeout: 30_000,
        });
        return await page.evaluate((mark) => {
          // A PerformanceResourceTiming in the page (Node's types know only PerformanceEntry).
          const search = performance.getEntriesByType("resource").find((r) => r.name.endsWith("/SearchRuns")) as
            | { readonly startTime: number; readonly responseEnd: number }
            | undefined;
          return {
            renderedMs: performance.getEntriesByName(mark)[0]?.startTime ?? Number.NaN,
            requestSentMs: search?.startTime ?? Number.NaN,
            answerReceivedMs: search?.responseEnd ?? Number.NaN,
          };
        }, firstPageMark);
      } finally {
        await page.close();
      }
    };
    const firstPageCold = await firstPage();
    const firstPageWarm: FirstPage[] = [];
    for (let i = 0; i < 5; i++) firstPageWarm.push(await firstPage());

    const page = await browser.context.newPage();
    const nextPageMs: number[] = [];
    await page.goto(pageUrl);
    await page.getByRole("link", { name: `run-${runCount - 1}`, exact: true }).waitFor({ timeout: 30_000 });
    for (let n = 2; n <= 6; n++) {
      const t = performance.now();
      await page.getByRole("button", { name: "Next page" }).click();
      await page.getByText(`Page ${n}`, { exact: true }).waitFor({ timeout: 30_000 });
      await page
        .getByRole("link", { name: `run-${runCount - 1 - 50 * (n - 1)}`, exact: true })
        .waitFor({ timeout: 30_000 });
      nextPageMs.push(performance.now() - t);
    }
    return { firstPageCold, firstPageWarm, nextPageMs, searchRunsMs };
  } finally {
    await browser.close();
  }
}

/** The built console's files: bytes raw and gzipped (level 6, what the registry sends). */
function bundleSizes(): Record<string, { bytes: number; gzipBytes: number }> {
  const dist = join(repoRoot, "console", "dist");
  const sizes: Record<string, { bytes: number; gzipBytes: number }> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const body = readFileSync(path);
        sizes[path.slice(dist.length + 1)] = { bytes: body.length, gzipBytes: gzipSync(body).length };
      }
    }
  };
  walk(dist);
  return sizes;
}

const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  runs: runCount,
  cpus: cpus().length,
  loadAverageAtStart: loadavg()[0],
};
if (!values["skip-startup"]) {
  const startupMs = await measureStartup();
  results.startupFirstPredictionMs = round(startupMs);
  console.log(`npm start -> first prediction (fresh data dir): ${(startupMs / 1000).toFixed(2)} s (target < 10 s)`);
}

const dataDir = values["data-dir"] ?? mkdtempSync(join(tmpdir(), "mlpipe-bench-console-"));
const registry = await startRegistryProcess({ MLPIPE_DATA_DIR: dataDir, LOG_LEVEL: "warn" });
try {
  const seedStarted = performance.now();
  const experimentId = await seedRuns(registry.url, runCount);
  console.log(`${runCount} runs ready (made or reused) in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
  const t = await measureRunsPage(registry.url, experimentId);
  const warm = (f: (p: FirstPage) => number) => round(median(t.firstPageWarm.map(f)));
  results.runsPage = {
    firstPageColdMs: round(t.firstPageCold.renderedMs),
    firstPageWarmMedianMs: warm((p) => p.renderedMs),
    firstPageWarmMaxMs: round(Math.max(...t.firstPageWarm.map((p) => p.renderedMs))),
    warmRequestSentMedianMs: warm((p) => p.requestSentMs),
    warmSearchRunsInBrowserMedianMs: warm((p) => p.answerReceivedMs - p.requestSentMs),
    warmRenderAfterAnswerMedianMs: warm((p) => p.renderedMs - p.answerReceivedMs),
    nextPageMedianMs: round(median(t.nextPageMs)),
    nextPageMaxMs: round(Math.max(...t.nextPageMs)),
    searchRunsFirstPageMedianMs: round(median(t.searchRunsMs)),
  };
  console.log(`runs page, ${runCount} runs, 50 per page (target: first page < 1000 ms):`);
  console.table(results.runsPage);
} finally {
  await registry.child.stop();
  if (values["data-dir"] === undefined) rmSync(dataDir, { recursive: true, force: true });
}
results.loadAverageAtEnd = loadavg()[0];
results.bundle = bundleSizes();
console.log("console build (bytes):");
console.table(results.bundle);
mkdirSync(dirname(values.out ?? "."), { recursive: true });
writeFileSync(values.out ?? "", `${JSON.stringify(results, null, 2)}\n`);
console.log(`results: ${values.out}`);
