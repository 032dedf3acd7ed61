/**
 * Canary and shadow under load (issue 16): a registry server and an inference server following it
 * (`mlpipe serve` as production runs it: the node:cluster primary with one HTTP worker process per
 * core, each with its own registry watch), a model with three versions behind three aliases:
 * `champion` (v1, the iris model) and `challenger` (v2, its variant) split 90/10 by the model tag
 * `mlpipe.traffic_split`, and `shadow` (v3, a retrained champion: the same weights) that the model
 * tag `mlpipe.shadow` mirrors every request to. A third alias rather than the challenger as shadow,
 * so that every mirror is an extra model run of a version the split does not serve, as a shadowed
 * candidate is in production, and so that an answer naming v3 proves a shadow answer leaked.
 *
 * JSON `POST /predict` at a fixed moderate rate (open loop: the server is not saturated, so the
 * mirrors' cost shows as latency, not as lost throughput) through measured phases of equal length
 * in one uninterrupted run, alternating: the split alone, the split with the shadow at 100%, the
 * split alone, ... ({@link shadowCycles} shadow phases between shadow-off ones). Alternating short
 * phases rather than one long phase each: a shared machine's drift (and a server still warming
 * in the first phase) then falls on both sides alike. Before each phase, with the load still
 * going, the registry change is made, the scenario waits (bounded) until the servers' aggregated
 * /metrics show every process applied it, then {@link settleSeconds} more. The generator reads each
 * answer's `model_version`, so the split is measured as callers see it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shadowTag } from "../../core/validation/shadow-routes.js";
import { trafficSplitTag } from "../../core/validation/traffic-split.js";
import { createMlpipeClient } from "../../sdk/index.js";
import { mlpipeWorkers } from "../lib/bench-fixtures.js";
import { type StartedServer, startMlpipeRegistryServer } from "../lib/inference-servers.js";
import { errorTotal, sleep, type WindowHooks } from "../lib/load-generator.js";
import type { Measurement } from "../lib/measurement.js";
import { type PhasedLoadResult, type PhaseSpec, phasedOpenLoop } from "../lib/phased-open-loop.js";
import { processTreeCpuSeconds, processTreeRssBytes } from "../lib/process-cpu.js";
import { startRegistryProcess } from "../lib/registry-process.js";
import {
  type MetricsSnapshot,
  metricSumWhere,
  type ServerView,
  scrapeMetrics,
  serverView,
} from "../lib/server-metrics.js";
import { createVersionedJsonClient } from "../lib/versioned-json-client.js";
import type { Scenario, ScenarioResult } from "../scenario.js";

/** Requests per second in every phase: moderate, well below what the server serves on 2 shared cores. */
export const canaryShadowRate = 500;

/** The challenger's share of the split, percent (the champion gets the rest). */
export const challengerPercent = 10;

/** Warm-up at the start of the load, seconds at least (the profile's when longer). */
const warmupFloorSeconds = 10;

/** Phases with the shadow on; each has a shadow-off phase before and after it. */
export const shadowCycles = 6;

/**
 * Seconds between a change applied in every process and its phase's window: the /metrics polls
 * of the wait and the change itself (a shadow version loading) are over before measuring.
 */
const settleSeconds = 1;

/**
 * Seconds of each phase: the profile's duration, 3 at least (8 in the full profile). At 500 req/s
 * an 8 s phase has 4,000 requests, so its p99 rests on its 40 slowest: with 4 s phases (20) a
 * phase's p99 moved between 3.2 and 11.6 ms within one run.
 */
export function phaseSeconds(durationSeconds: number): number {
  return Math.max(3, durationSeconds);
}

/** The registered model. */
const modelName = "iris-classifier";

/** Longest wait for every server process to apply a registry change, ms (a version load included). */
const applyTimeoutMs = 60_000;

/** Mirrors counted by outcome (`shadow_requests_total` of the shadow alias). */
export interface ShadowOutcomes {
  readonly agree: number;
  readonly disagree: number;
  readonly error: number;
  readonly dropped: number;
}

/** The numbers of one phase besides its load: the server's CPU, its /metrics view and the mirrors. */
export interface PhaseServerSide {
  /** CPU of the server's processes per measured second (1 = one core); undefined without /proc. */
  readonly cpuCores: number | undefined;
  readonly view: ServerView | undefined;
  /** Requests the server answered during the window (every process), from its /metrics. */
  readonly answered: number;
  /** Mirrors whose outcome was counted during the window. */
  readonly shadow: ShadowOutcomes;
  /**
   * Processes running each alias's version on their event loop when the window closed
   * (`model_runs_on_event_loop`, summed over the cluster; the others run it on worker threads):
   * each process places a version by timing it when it loads, so two runs may differ.
   */
  readonly onEventLoop: Readonly<Record<keyof CanaryVersions, number>>;
}

/** The versions behind the aliases. */
export interface CanaryVersions {
  readonly champion: string;
  readonly challenger: string;
  readonly shadow: string;
}

const outcomes = ["agree", "disagree", "error", "dropped"] as const;

function shadowOutcomesOf(text: string): ShadowOutcomes {
  const [agree, disagree, error, dropped] = outcomes.map((outcome) =>
    metricSumWhere(text, "shadow_requests_total", { alias: "shadow", outcome }),
  ) as [number, number, number, number];
  return { agree, disagree, error, dropped };
}

/** Requests answered by `version` (every process), from `prediction_latency_seconds`' count. */
function answeredBy(text: string, version: string): number {
  return metricSumWhere(text, "prediction_latency_seconds_count", { version });
}

/** Processes running `version` on their event loop. */
function onEventLoop(text: string, version: string): number {
  return metricSumWhere(text, "model_runs_on_event_loop", { version });
}

function answeredTotal(text: string): number {
  return metricSumWhere(text, "prediction_latency_seconds_count", {});
}

function mirroredTotal(text: string): number {
  const s = shadowOutcomesOf(text);
  return s.agree + s.disagree + s.error + s.dropped;
}

async function metricsText(url: string): Promise<string> {
  const res = await fetch(new URL("/metrics", url), { signal: AbortSignal.timeout(5000) });
  return res.text();
}

/**
 * Polls the server's /metrics (aggregated over its processes) every 300 ms until `steady` holds
 * for two intervals in a row (`before`, `after`: consecutive scrapes); throws after
 * {@link applyTimeoutMs}, naming `what`.
 */
async function waitUntilSteady(
  url: string,
  what: string,
  steady: (before: string, after: string) => boolean,
): Promise<void> {
  const deadline = performance.now() + applyTimeoutMs;
  let before = await metricsText(url);
  let inARow = 0;
  while (performance.now() < deadline) {
    await sleep(300);
    const after = await metricsText(url);
    inARow = steady(before, after) ? inARow + 1 : 0;
    if (inARow >= 2) return;
    before = after;
  }
  throw new Error(`canary-shadow: ${what} not seen within ${applyTimeoutMs / 1000} s`);
}

/**
 * The interval saw enough answers and the challenger's share of them is at least 70% of its
 * percent: with 2 processes each routing its own requests exactly, a process not yet routing
 * halves the share.
 */
export function splitInForce(before: string, after: string, challenger: string): boolean {
  const total = answeredTotal(after) - answeredTotal(before);
  const share = (answeredBy(after, challenger) - answeredBy(before, challenger)) / total;
  return total >= 100 && share >= (0.7 * challengerPercent) / 100;
}

/** At least 95% of the interval's answers were mirrored (or dropped by the mirror): every process mirrors. */
export function shadowInForce(before: string, after: string): boolean {
  const total = answeredTotal(after) - answeredTotal(before);
  return total >= 100 && mirroredTotal(after) - mirroredTotal(before) >= 0.95 * total;
}

/** No mirror counted in the interval (and requests were answered): every process stopped mirroring. */
export function shadowStopped(before: string, after: string): boolean {
  return answeredTotal(after) - answeredTotal(before) >= 100 && mirroredTotal(after) === mirroredTotal(before);
}

/** Whether one GET /models answer shows every route of the model's split with a loaded version. */
async function routesLoaded(url: string): Promise<boolean> {
  // A new connection per request: the cluster hands each to the next process, so consecutive
  // answers come from every process in turn.
  const res = await fetch(new URL("/models", url), {
    headers: { connection: "close" },
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as { models?: { name?: string; traffic_split?: { version?: string }[] }[] };
  const split = body.models?.find((m) => m.name === modelName)?.traffic_split ?? [];
  return res.status === 200 && split.length === 2 && split.every((r) => (r.version ?? "") !== "");
}

/**
 * Waits (bounded) until 8 answers in a row of GET /models show both routes' versions loaded:
 * the load starts on a server that serves the whole split in every process, as a production
 * server gets traffic once it is ready, not while its challenger loads.
 */
async function waitForRoutesLoaded(url: string): Promise<void> {
  const deadline = performance.now() + applyTimeoutMs;
  let inARow = 0;
  while (performance.now() < deadline) {
    inARow = (await routesLoaded(url)) ? inARow + 1 : 0;
    if (inARow >= 8) return;
    await sleep(100);
  }
  throw new Error(`canary-shadow: the split's versions not loaded within ${applyTimeoutMs / 1000} s`);
}

/** Window hooks reading the server's CPU and /metrics at both ends of a phase. */
function phaseProbe(
  server: StartedServer,
  versions: CanaryVersions,
): { hooks: WindowHooks; result: () => PhaseServerSide } {
  let cpu0: number | undefined;
  let cpu1: number | undefined;
  let t0 = 0;
  let t1 = 0;
  let text0 = "";
  let text1 = "";
  let m0: MetricsSnapshot | undefined;
  let m1: MetricsSnapshot | undefined;
  const hooks: WindowHooks = {
    async opened() {
      [text0, m0] = await Promise.all([metricsText(server.url), scrapeMetrics(server.url)]);
      cpu0 = await processTreeCpuSeconds(server.child.pid);
      t0 = performance.now();
    },
    async closed() {
      t1 = performance.now();
      cpu1 = await processTreeCpuSeconds(server.child.pid);
      [text1, m1] = await Promise.all([metricsText(server.url), scrapeMetrics(server.url)]);
    },
  };
  return {
    hooks,
    result() {
      const a = shadowOutcomesOf(text0);
      const b = shadowOutcomesOf(text1);
      return {
        cpuCores: cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) / ((t1 - t0) / 1000),
        view: m0 === undefined || m1 === undefined ? undefined : serverView(m0, m1),
        answered: answeredTotal(text1) - answeredTotal(text0),
        shadow: {
          agree: b.agree - a.agree,
          disagree: b.disagree - a.disagree,
          error: b.error - a.error,
          dropped: b.dropped - a.dropped,
        },
        onEventLoop: {
          champion: onEventLoop(text1, versions.champion),
          challenger: onEventLoop(text1, versions.challenger),
          shadow: onEventLoop(text1, versions.shadow),
        },
      };
    },
  };
}

const mean = (values: readonly (number | undefined)[]): number | undefined => {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? undefined : known.reduce((a, b) => a + b, 0) / known.length;
};

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] ?? Number.NaN) + hi) / 2;
};

/**
 * The scenario's metrics from its alternating phases (shadow off at even indexes, on at odd ones,
 * off first and last) and the server side of each: failures of the whole run, the challenger's
 * share of every phase's answers, answers naming any other version than champion's and
 * challenger's (a leaked shadow answer), p99 with the shadow off and on (each group's requests
 * together) and their ratio, each shadow phase's p99 over the mean of its two neighbours' (the
 * spread of the comparison within the run), the server's CPU and the mirrors' outcomes.
 */
export function canaryShadowMetrics(
  load: PhasedLoadResult,
  server: readonly PhaseServerSide[],
  versions: CanaryVersions,
): Record<string, number> {
  const phases = load.phases;
  if (phases.length < 3 || phases.length % 2 === 0 || server.length !== phases.length) {
    throw new Error("canary-shadow: alternating phases expected, shadow off first and last");
  }
  let answered = 0;
  let challenger = 0;
  let unexpected = 0;
  for (const phase of phases) {
    for (const [version, n] of Object.entries(phase.versions)) {
      answered += n;
      if (version === versions.challenger) challenger += n;
      else if (version !== versions.champion) unexpected += n;
    }
  }
  const off = load.groups.off;
  const on = load.groups.on;
  if (off === undefined || on === undefined) throw new Error("canary-shadow: no shadow-off or shadow-on group");
  const lateOff = load.sendLateness.off;
  const lateOn = load.sendLateness.on;
  const isOn = (i: number) => i % 2 === 1;
  const p99 = (i: number) => phases[i]?.load.latencyMs.p99 ?? Number.NaN;
  const cycleRatios = phases.flatMap((_, i) => (isOn(i) ? [p99(i) / ((p99(i - 1) + p99(i + 1)) / 2)] : []));
  const onSides = server.filter((_, i) => isOn(i));
  const shadow = onSides.reduce(
    (t, side) => ({
      agree: t.agree + side.shadow.agree,
      disagree: t.disagree + side.shadow.disagree,
      error: t.error + side.shadow.error,
      dropped: t.dropped + side.shadow.dropped,
    }),
    { agree: 0, disagree: 0, error: 0, dropped: 0 },
  );
  const mirrored = shadow.agree + shadow.disagree + shadow.error;
  const answeredOn = onSides.reduce((n, side) => n + side.answered, 0);
  const cpuOff = mean(server.filter((_, i) => !isOn(i)).map((side) => side.cpuCores));
  const cpuOn = mean(onSides.map((side) => side.cpuCores));
  return {
    failed_requests: errorTotal(load.errors),
    challenger_share_percent: answered === 0 ? Number.NaN : (100 * challenger) / answered,
    unexpected_version_answers: unexpected,
    requests_per_second: mean(phases.filter((_, i) => isOn(i)).map((p) => p.load.throughput)) ?? 0,
    shadow_cycles: cycleRatios.length,
    p99_ms_shadow_off: off.p99,
    p99_ms_shadow_on: on.p99,
    p99_shadow_ratio: on.p99 / off.p99,
    p99_shadow_ratio_cycles_median: median(cycleRatios),
    p99_shadow_ratio_cycles_min: Math.min(...cycleRatios),
    p99_shadow_ratio_cycles_max: Math.max(...cycleRatios),
    // The first phase alone: how far a server still warming would have moved a single comparison.
    p99_ms_first_phase: p99(0),
    p50_ms_shadow_off: off.p50,
    p50_ms_shadow_on: on.p50,
    // The generator's part of those latencies: how late it sent the requests (its tick, its stalls).
    ...(lateOff === undefined ? {} : { generator_send_lateness_p99_ms_shadow_off: lateOff.p99 }),
    ...(lateOn === undefined ? {} : { generator_send_lateness_p99_ms_shadow_on: lateOn.p99 }),
    ...(cpuOff === undefined ? {} : { server_cpu_cores_shadow_off: cpuOff }),
    ...(cpuOn === undefined ? {} : { server_cpu_cores_shadow_on: cpuOn }),
    shadow_mirrored: mirrored,
    // Over the server's answers between the same scrapes as the mirrors: the scrapes of a busy
    // cluster take long, so they span more than the generator's windows.
    shadow_mirrored_percent: answeredOn === 0 ? Number.NaN : (100 * mirrored) / answeredOn,
    shadow_agree: shadow.agree,
    shadow_disagree: shadow.disagree,
    shadow_error: shadow.error,
    shadow_dropped: shadow.dropped,
    generator_cpu_cores: Math.max(...phases.map((p) => p.load.generatorCpuCores)),
  };
}

/** The canary-shadow scenario. */
export const canaryShadowScenario: Scenario = {
  description: `JSON /predict at ${canaryShadowRate}/s, split champion ${100 - challengerPercent} / challenger ${challengerPercent}, shadow off and at 100% in alternating phases (${shadowCycles} on): 0 failures, split within 1 point, p99 on within 10% of off`,
  async run(profile, fx): Promise<ScenarioResult> {
    const dir = await mkdtemp(join(tmpdir(), "mlpipe-bench-canary-"));
    let registry: StartedServer | undefined;
    let server: StartedServer | undefined;
    try {
      registry = await startRegistryProcess({ MLPIPE_DATA_DIR: join(dir, "registry"), LOG_LEVEL: "warn" });
      const mlpipe = createMlpipeClient({ url: registry.url, protocol: "grpc" });
      const [a, b] = await mlpipe.withRun({ runName: "bench-canary-shadow" }, async (run) => {
        await run.logArtifact(fx.models.iris, "a/model.onnx");
        await run.logArtifact(fx.models.irisB, "b/model.onnx");
        return [run.artifactSource("a/model.onnx"), run.artifactSource("b/model.onnx")] as const;
      });
      const versions: CanaryVersions = {
        champion: String((await mlpipe.registerModel(modelName, a)).version),
        challenger: String((await mlpipe.registerModel(modelName, b)).version),
        shadow: String((await mlpipe.registerModel(modelName, a)).version),
      };
      for (const alias of ["champion", "challenger", "shadow"] as const) {
        await mlpipe.setAlias(modelName, alias, BigInt(versions[alias]));
      }
      await mlpipe.registry.setRegisteredModelTag({
        name: modelName,
        key: trafficSplitTag,
        value: `champion=${100 - challengerPercent},challenger=${challengerPercent}`,
      });
      server = await startMlpipeRegistryServer({
        registryUrl: registry.url,
        modelName,
        stage: "champion",
        workers: mlpipeWorkers,
        dataDir: join(dir, "inference"),
      });
      const url = server.url;
      await waitForRoutesLoaded(url);
      const client = createVersionedJsonClient(url, fx.rows);
      const seconds = phaseSeconds(profile.durationSeconds);
      const splitSteady = () =>
        waitUntilSteady(url, "the split in every process", (x, y) => splitInForce(x, y, versions.challenger));
      const shadowOn = async () => {
        await mlpipe.registry.setRegisteredModelTag({ name: modelName, key: shadowTag, value: "shadow=100" });
        await waitUntilSteady(url, "mirroring in every process", shadowInForce);
        await sleep(settleSeconds * 1000);
      };
      const shadowOff = async () => {
        await mlpipe.registry.deleteRegisteredModelTag({ name: modelName, key: shadowTag });
        await waitUntilSteady(url, "mirroring stopped in every process", shadowStopped);
        await sleep(settleSeconds * 1000);
      };
      const started = server;
      const probes = Array.from({ length: 2 * shadowCycles + 1 }, () => phaseProbe(started, versions));
      const phases: PhaseSpec[] = probes.map((probe, i) =>
        i % 2 === 1
          ? { name: `shadow 100% (${(i + 1) / 2})`, group: "on", seconds, before: shadowOn, window: probe.hooks }
          : {
              name: `shadow off (${i / 2 + 1})`,
              group: "off",
              seconds,
              before: i === 0 ? splitSteady : shadowOff,
              window: probe.hooks,
            },
      );
      let load: PhasedLoadResult;
      try {
        load = await phasedOpenLoop(client.predict, {
          rate: canaryShadowRate,
          // At least 10 s: a server that just started (JIT, first requests of each path) is slower
          // for a while, which would land in the first phase only. With 2 s, the first phase's
          // p99 was above the last phase's in 6 runs of 7, which flattered the ratio.
          warmupSeconds: Math.max(profile.warmupSeconds, warmupFloorSeconds),
          phases,
        });
      } finally {
        client.close();
      }
      const sides = probes.map((p) => p.result());
      const rss = await processTreeRssBytes(server.child.pid);
      const measurements: Measurement[] = load.phases.map((phase, i) => ({
        server: `mlpipe (${phase.name})`,
        protocol: "http-json",
        rowsPerRequest: 1,
        generator: "node",
        load: phase.load,
        rowsPerSecond: phase.load.throughput,
        serverCpuCores: sides[i]?.cpuCores,
        serverRssMb: rss === undefined ? undefined : rss / 1024 / 1024,
        serverView: sides[i]?.view,
      }));
      const failed = errorTotal(load.errors);
      return {
        metrics: canaryShadowMetrics(load, sides, versions),
        errorCount: failed,
        measurements,
        // Points at one rate: not a latency-throughput line.
        series: [],
        skipped: [],
        detail: {
          versions,
          rate: canaryShadowRate,
          phaseSeconds: seconds,
          sent: load.sent,
          errors: load.errors,
          errorsByStage: load.errorsByStage,
          phases: load.phases.map((p, i) => ({
            name: p.name,
            versions: p.versions,
            applySeconds: p.beforeSeconds,
            inFlightAtOpen: p.inFlightAtOpen,
            server: sides[i],
          })),
        },
      };
    } finally {
      await server?.child.stop();
      await registry?.child.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
