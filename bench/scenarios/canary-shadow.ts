/**
 * Canary and shadow under load (issue 16): a registry server and two identical inference servers
 * following it (`mlpipe serve` as production runs it: the node:cluster primary with one HTTP worker
 * process per core, each with its own registry watch), each following its own model, a twin of the
 * other: three versions behind three aliases, `champion` (v1, the iris model) and `challenger` (v2,
 * its variant) split 90/10 by the model tag `mlpipe.traffic_split`, and `shadow` (v3, a retrained
 * champion: the same weights) that the model tag `mlpipe.shadow` mirrors every request to. A third
 * alias rather than the challenger as shadow, so that every mirror is an extra model run of a
 * version the split does not serve, as a shadowed candidate is in production, and so that an
 * answer naming v3 proves a shadow answer leaked.
 *
 * JSON `POST /predict` at a fixed moderate rate per server (open loop: the servers are not
 * saturated, so the mirrors' cost shows as latency, not as lost throughput), the requests sent to
 * the two servers in turn, through measured phases of equal length in one uninterrupted run: in
 * each phase one server mirrors every request and its twin does not, and they swap at every phase
 * ({@link shadowCycles} phases each). The shadow's cost is the p99 of the server mirroring over the
 * p99 of its twin at the same moment: on a shared machine, whatever slows both alike (the load
 * generator's own stalls, another tenant, the kernel) falls on both sides of the comparison, which
 * phases of one server in turn (off, on, off, ...) cannot give: there, a single run's ratio moved
 * between 0.88 and 1.24 while the shadow's average effect was about 6% (bench/README.md). Swapping
 * the roles every phase puts each server on both sides equally. What it leaves out: the machine's
 * whole CPU is the same in every phase (one server mirrors), so the part of the mirrors' cost that
 * slows the twin too, through the shared cores, is on both sides; the servers' CPU with and without
 * the shadow is reported for it.
 *
 * Before each phase, with the load still going, the registry changes are made, the scenario waits
 * (bounded) until the servers' aggregated /metrics show every process applied them, then
 * {@link settleSeconds} more. The generator reads each answer's `model_version`, so the split is
 * measured as callers see it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shadowTag } from "../../core/validation/shadow-routes.js";
import { trafficSplitTag } from "../../core/validation/traffic-split.js";
import { createMlpipeClient } from "../../sdk/index.js";
import { mlpipeWorkers } from "../lib/bench-fixtures.js";
import { type StartedServer, startMlpipeRegistryServer } from "../lib/inference-servers.js";
import type { LatencySummary } from "../lib/latency.js";
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

/**
 * Requests per second to each server in every phase: moderate, well below what the two servers
 * serve together on 2 shared cores.
 */
export const canaryShadowRate = 500;

/** The twin servers, in the order the requests go to them. */
export const twins = ["a", "b"] as const;

/** One of the {@link twins}. */
export type Twin = (typeof twins)[number];

/** The twin that mirrors during phase `phase` (the other does not): a, b, a, b, ... */
export function mirroringTwin(phase: number): Twin {
  return phase % 2 === 0 ? "a" : "b";
}

/** The challenger's share of the split, percent (the champion gets the rest). */
export const challengerPercent = 10;

/** Warm-up at the start of the load, seconds at least (the profile's when longer). */
const warmupFloorSeconds = 10;

/** Phases in which each twin mirrors: 2 x 6 phases in all. */
export const shadowCycles = 6;

/**
 * Seconds between a change applied in every process and its phase's window: the /metrics polls
 * of the wait and the change itself (a shadow version loading) are over before measuring.
 */
const settleSeconds = 1;

/**
 * Seconds of each phase: the profile's duration, 3 at least (8 in the full profile). At 500 req/s
 * an 8 s phase has 4,000 requests per server, so its p99 rests on its 40 slowest: with 4 s phases
 * (20) a phase's p99 moved between 3.2 and 11.6 ms within one run.
 */
export function phaseSeconds(durationSeconds: number): number {
  return Math.max(3, durationSeconds);
}

/** The registered model of each twin: the same versions, aliases and split under two names. */
export function modelOf(twin: Twin): string {
  return `iris-classifier-${twin}`;
}

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

/** Whether one GET /models answer shows every route of `model`'s split with a loaded version. */
async function routesLoaded(url: string, model: string): Promise<boolean> {
  // A new connection per request: the cluster hands each to the next process, so consecutive
  // answers come from every process in turn.
  const res = await fetch(new URL("/models", url), {
    headers: { connection: "close" },
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as { models?: { name?: string; traffic_split?: { version?: string }[] }[] };
  const split = body.models?.find((m) => m.name === model)?.traffic_split ?? [];
  return res.status === 200 && split.length === 2 && split.every((r) => (r.version ?? "") !== "");
}

/**
 * Waits (bounded) until 8 answers in a row of GET /models show both routes' versions loaded:
 * the load starts on a server that serves the whole split in every process, as a production
 * server gets traffic once it is ready, not while its challenger loads.
 */
async function waitForRoutesLoaded(url: string, model: string): Promise<void> {
  const deadline = performance.now() + applyTimeoutMs;
  let inARow = 0;
  while (performance.now() < deadline) {
    inARow = (await routesLoaded(url, model)) ? inARow + 1 : 0;
    if (inARow >= 8) return;
    await sleep(100);
  }
  throw new Error(`canary-shadow: ${model}'s split not loaded within ${applyTimeoutMs / 1000} s`);
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

/** The server side of one phase: each twin's. */
export type PhaseSides = Readonly<Record<Twin, PhaseServerSide>>;

/**
 * The groups of phase `phase`'s requests, per twin in {@link twins} order: "on" or "off" (both
 * twins together) and "a on", "a off", "b on", "b off" (each twin alone).
 */
export function twinGroups(phase: number): readonly (readonly string[])[] {
  const mirroring = mirroringTwin(phase);
  return twins.map((twin) => {
    const state = twin === mirroring ? "on" : "off";
    return [state, `${twin} ${state}`];
  });
}

/**
 * The scenario's metrics from its phases (twin a mirrors in even ones, b in odd ones; an even
 * count) and the server side of each: failures of the whole run, the challenger's share of every
 * phase's answers, answers naming any other version than champion's and challenger's (a leaked
 * shadow answer), p99 of the twin mirroring and of the twin not (each side's requests of every
 * phase together) and their ratio, each phase's own ratio (its spread within the run), each twin's
 * p99 while mirroring over its p99 while not (the comparison in time), the servers' CPU and the
 * mirrors' outcomes, of the mirroring twins and of the others (which must mirror nothing).
 */
export function canaryShadowMetrics(
  load: PhasedLoadResult,
  server: readonly PhaseSides[],
  versions: CanaryVersions,
): Record<string, number> {
  const phases = load.phases;
  if (phases.length < 2 || phases.length % 2 === 1 || server.length !== phases.length) {
    throw new Error("canary-shadow: phases in pairs expected, twin a mirroring first");
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
  const group = (name: string): LatencySummary => {
    const summary = load.groups[name];
    if (summary === undefined) throw new Error(`canary-shadow: no "${name}" group`);
    return summary;
  };
  const on = group("on");
  const off = group("off");
  const lateOff = load.sendLateness.off;
  const lateOn = load.sendLateness.on;
  const twinP99 = (phase: number, twin: Twin) =>
    phases[phase]?.targets[twins.indexOf(twin)]?.latencyMs.p99 ?? Number.NaN;
  const phaseRatios = phases.map((_, i) => {
    const mirroring = mirroringTwin(i);
    return twinP99(i, mirroring) / twinP99(i, mirroring === "a" ? "b" : "a");
  });
  const sidesWhere = (mirroring: boolean) =>
    server.flatMap((sides, i) => twins.filter((t) => (t === mirroringTwin(i)) === mirroring).map((t) => sides[t]));
  const total = (sides: readonly PhaseServerSide[]): ShadowOutcomes =>
    sides.reduce(
      (t, side) => ({
        agree: t.agree + side.shadow.agree,
        disagree: t.disagree + side.shadow.disagree,
        error: t.error + side.shadow.error,
        dropped: t.dropped + side.shadow.dropped,
      }),
      { agree: 0, disagree: 0, error: 0, dropped: 0 },
    );
  const onSides = sidesWhere(true);
  const offSides = sidesWhere(false);
  const shadow = total(onSides);
  const stray = total(offSides);
  const mirrored = shadow.agree + shadow.disagree + shadow.error;
  const answeredOn = onSides.reduce((n, side) => n + side.answered, 0);
  const cpuOff = mean(offSides.map((side) => side.cpuCores));
  const cpuOn = mean(onSides.map((side) => side.cpuCores));
  return {
    failed_requests: errorTotal(load.errors),
    challenger_share_percent: answered === 0 ? Number.NaN : (100 * challenger) / answered,
    unexpected_version_answers: unexpected,
    // Both twins' together.
    requests_per_second: mean(phases.map((p) => p.load.throughput)) ?? 0,
    shadow_phases: phases.length,
    p99_ms_shadow_off: off.p99,
    p99_ms_shadow_on: on.p99,
    p99_shadow_ratio: on.p99 / off.p99,
    p99_shadow_ratio_phases_median: median(phaseRatios),
    p99_shadow_ratio_phases_min: Math.min(...phaseRatios),
    p99_shadow_ratio_phases_max: Math.max(...phaseRatios),
    // The comparison in time, one twin at a time: its phases mirroring over its phases not.
    p99_shadow_ratio_in_time_a: group("a on").p99 / group("a off").p99,
    p99_shadow_ratio_in_time_b: group("b on").p99 / group("b off").p99,
    // The first phase alone (both twins): how far a server still warming would move a comparison.
    p99_ms_first_phase: phases[0]?.load.latencyMs.p99 ?? Number.NaN,
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
    // Mirrors counted by the twin that was not mirroring: must be 0.
    shadow_mirrored_while_off: stray.agree + stray.disagree + stray.error + stray.dropped,
    generator_cpu_cores: Math.max(...phases.map((p) => p.load.generatorCpuCores)),
  };
}

/** A twin and its server. */
interface TwinServer {
  readonly twin: Twin;
  readonly server: StartedServer;
}

/** The canary-shadow scenario. */
export const canaryShadowScenario: Scenario = {
  description: `JSON /predict at ${canaryShadowRate}/s to each of two twin servers, split champion ${100 - challengerPercent} / challenger ${challengerPercent}, the shadow at 100% on one twin at a time (${2 * shadowCycles} phases): 0 failures, split within 1 point, p99 of the twin mirroring within 10% of the twin not`,
  async run(profile, fx): Promise<ScenarioResult> {
    const dir = await mkdtemp(join(tmpdir(), "mlpipe-bench-canary-"));
    let registry: StartedServer | undefined;
    const started: TwinServer[] = [];
    try {
      registry = await startRegistryProcess({ MLPIPE_DATA_DIR: join(dir, "registry"), LOG_LEVEL: "warn" });
      const mlpipe = createMlpipeClient({ url: registry.url, protocol: "grpc" });
      const [a, b] = await mlpipe.withRun({ runName: "bench-canary-shadow" }, async (run) => {
        await run.logArtifact(fx.models.iris, "a/model.onnx");
        await run.logArtifact(fx.models.irisB, "b/model.onnx");
        return [run.artifactSource("a/model.onnx"), run.artifactSource("b/model.onnx")] as const;
      });
      const registerTwin = async (model: string): Promise<CanaryVersions> => {
        const registered: CanaryVersions = {
          champion: String((await mlpipe.registerModel(model, a)).version),
          challenger: String((await mlpipe.registerModel(model, b)).version),
          shadow: String((await mlpipe.registerModel(model, a)).version),
        };
        for (const alias of ["champion", "challenger", "shadow"] as const) {
          await mlpipe.setAlias(model, alias, BigInt(registered[alias]));
        }
        await mlpipe.registry.setRegisteredModelTag({
          name: model,
          key: trafficSplitTag,
          value: `champion=${100 - challengerPercent},challenger=${challengerPercent}`,
        });
        return registered;
      };
      // Versions are numbered per model, so both twins get the same three: an answer naming any
      // other counts in unexpected_version_answers.
      const known = await registerTwin(modelOf("a"));
      await registerTwin(modelOf("b"));
      for (const twin of twins) {
        const model = modelOf(twin);
        const server = await startMlpipeRegistryServer({
          registryUrl: registry.url,
          modelName: model,
          stage: "champion",
          workers: mlpipeWorkers,
          dataDir: join(dir, `inference-${twin}`),
        });
        started.push({ twin, server });
        await waitForRoutesLoaded(server.url, model);
      }
      const clients = started.map((t) => createVersionedJsonClient(t.server.url, fx.rows));
      const seconds = phaseSeconds(profile.durationSeconds);
      const urlOf = (twin: Twin) => started[twins.indexOf(twin)]?.server.url ?? "";
      const splitSteady = () =>
        Promise.all(
          twins.map((twin) =>
            waitUntilSteady(urlOf(twin), `${modelOf(twin)}'s split in every process`, (x, y) =>
              splitInForce(x, y, known.challenger),
            ),
          ),
        );
      // Before phase i: the shadow on for the twin that mirrors in it, off for the other (which
      // mirrored in the phase before), each applied in every process of its server.
      const swap = async (i: number) => {
        const mirroring = mirroringTwin(i);
        const other = mirroring === "a" ? "b" : "a";
        if (i === 0) await splitSteady();
        await mlpipe.registry.setRegisteredModelTag({ name: modelOf(mirroring), key: shadowTag, value: "shadow=100" });
        if (i > 0) await mlpipe.registry.deleteRegisteredModelTag({ name: modelOf(other), key: shadowTag });
        await Promise.all([
          waitUntilSteady(urlOf(mirroring), `mirroring in every process of ${mirroring}`, shadowInForce),
          i > 0
            ? waitUntilSteady(urlOf(other), `mirroring stopped in every process of ${other}`, shadowStopped)
            : undefined,
        ]);
        await sleep(settleSeconds * 1000);
      };
      const probes = Array.from({ length: 2 * shadowCycles }, () => started.map((t) => phaseProbe(t.server, known)));
      const phases: PhaseSpec[] = probes.map((twinProbes, i) => ({
        name: `${mirroringTwin(i)} mirroring (${Math.floor(i / 2) + 1})`,
        group: twinGroups(i),
        seconds,
        before: () => swap(i),
        window: {
          opened: async () => {
            for (const probe of twinProbes) await probe.hooks.opened();
          },
          closed: async () => {
            for (const probe of twinProbes) await probe.hooks.closed();
          },
        },
      }));
      let load: PhasedLoadResult;
      try {
        load = await phasedOpenLoop(
          clients.map((c) => c.predict),
          {
            rate: canaryShadowRate * twins.length,
            // At least 10 s: a server that just started (JIT, first requests of each path) is slower
            // for a while, which would land in the first phase only.
            warmupSeconds: Math.max(profile.warmupSeconds, warmupFloorSeconds),
            phases,
          },
        );
      } finally {
        for (const client of clients) client.close();
      }
      const sides: PhaseSides[] = probes.map(([pa, pb]) => {
        if (pa === undefined || pb === undefined) throw new Error("canary-shadow: a probe per twin expected");
        return { a: pa.result(), b: pb.result() };
      });
      const rss = await Promise.all(started.map((t) => processTreeRssBytes(t.server.child.pid)));
      const measurements: Measurement[] = load.phases.flatMap((phase, i) =>
        started.map((t, k) => {
          const target = phase.targets[k];
          const throughput = (target?.ok ?? 0) / phase.load.seconds;
          const side = sides[i]?.[t.twin];
          const bytes = rss[k];
          return {
            server: `mlpipe ${t.twin} (${t.twin === mirroringTwin(i) ? "mirroring" : "not mirroring"}, phase ${i + 1})`,
            protocol: "http-json",
            rowsPerRequest: 1,
            generator: "node",
            load: {
              ...phase.load,
              targetRate: canaryShadowRate,
              throughput,
              ok: target?.ok ?? 0,
              latencyMs: target?.latencyMs ?? phase.load.latencyMs,
              // The twin's own failures (errorLatencyMs stays the phase's, both twins').
              errors: target?.errors ?? phase.load.errors,
            },
            rowsPerSecond: throughput,
            serverCpuCores: side?.cpuCores,
            serverRssMb: bytes === undefined ? undefined : bytes / 1024 / 1024,
            serverView: side?.view,
          } satisfies Measurement;
        }),
      );
      const failed = errorTotal(load.errors);
      return {
        metrics: canaryShadowMetrics(load, sides, known),
        errorCount: failed,
        measurements,
        // Points at one rate: not a latency-throughput line.
        series: [],
        skipped: [],
        detail: {
          versions: known,
          models: Object.fromEntries(twins.map((t) => [t, modelOf(t)])),
          ratePerServer: canaryShadowRate,
          phaseSeconds: seconds,
          sent: load.sent,
          errors: load.errors,
          errorsByStage: load.errorsByStage,
          phases: load.phases.map((p, i) => ({
            name: p.name,
            mirroring: mirroringTwin(i),
            versions: p.versions,
            p99ByTwin: Object.fromEntries(twins.map((t, k) => [t, p.targets[k]?.latencyMs.p99])),
            applySeconds: p.beforeSeconds,
            inFlightAtOpen: p.inFlightAtOpen,
            server: sides[i],
          })),
        },
      };
    } finally {
      for (const t of started) await t.server.child.stop();
      await registry?.child.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
