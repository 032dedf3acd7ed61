/**
 * An open loop (fixed request rate, latency from each request's intended send time, as
 * load-generator.ts's `openLoop`) that keeps sending through several measured phases of one run,
 * with an unmeasured transition before each phase (e.g. a registry change and the wait until every
 * server process applied it). Each request belongs to the phase during which it was *due*, so a
 * slow answer that arrives after its window closed still counts where it was sent; requests due
 * during the warm-up or a transition are not measured, but their failures are counted (a failure
 * anywhere in the run is a failure). Each successful call resolves with the model version that
 * answered, counted per phase: the traffic split as the callers saw it.
 */
import { createLatencyRecorder, type LatencyRecorder, type LatencySummary } from "./latency.js";
import { dueCount, errorCodeOf, type LoadResult, sleep, type WindowHooks } from "./load-generator.js";

/** Sends one request; resolves with the `model_version` of the answer, rejects as a {@link Call} does. */
export type VersionedCall = () => Promise<string>;

/** One measured phase. */
export interface PhaseSpec {
  /** Names the phase in the results. */
  readonly name: string;
  /** Measured seconds. */
  readonly seconds: number;
  /**
   * Phases of one group (e.g. "off" for the phases before and after a change) also get one latency
   * summary over all their requests; default none.
   */
  readonly group?: string;
  /**
   * Awaited before the phase's window opens while the load keeps going (its requests are not
   * measured): a change to make and its wait, bounded by the caller.
   */
  readonly before?: () => Promise<void>;
  /** Called right when the window opens and right after it closes (server CPU, /metrics). */
  readonly window?: WindowHooks;
}

/** Options of {@link phasedOpenLoop}. */
export interface PhasedOpenLoopOptions {
  /** Requests per second, the same in every phase and transition. */
  readonly rate: number;
  /** Seconds of warm-up before the first transition, not measured. */
  readonly warmupSeconds: number;
  readonly phases: readonly PhaseSpec[];
  /** Requests in flight before new ones count as `generator_backlog` instead of being sent; default 20,000. */
  readonly maxInFlight?: number;
  /**
   * A phase's window opens only once at most this many requests are in flight (the server caught
   * up with what the transition left), waiting at most {@link settleTimeoutMs}; default a tenth of
   * a second's requests.
   */
  readonly settledInFlight?: number;
}

/** Longest wait for the requests in flight to fall to `settledInFlight` before a window opens anyway, ms. */
export const settleTimeoutMs = 30_000;

/** What one phase saw. */
export interface PhaseResult {
  readonly name: string;
  /** The phase as an open-loop load measurement (its `errors` are the phase's own). */
  readonly load: LoadResult;
  /** Successful answers of the phase by the version that answered. */
  readonly versions: Readonly<Record<string, number>>;
  /** How long the phase's `before` took, seconds (0 without one), the wait for the backlog to settle included. */
  readonly beforeSeconds: number;
  /** Requests in flight when the window opened (above `settledInFlight` only when the wait timed out). */
  readonly inFlightAtOpen: number;
}

/** What a phased run saw. */
export interface PhasedLoadResult {
  readonly phases: readonly PhaseResult[];
  /** Latency of the successful requests of each group's phases together, ms. */
  readonly groups: Readonly<Record<string, LatencySummary>>;
  /**
   * How late the generator sent each group's requests, ms: from the intended send time to the
   * request's start (its 1 ms tick and its own stalls), a part of every latency above.
   */
  readonly sendLateness: Readonly<Record<string, LatencySummary>>;
  /** Failed requests of the whole run by code: warm-up, transitions and phases. */
  readonly errors: Readonly<Record<string, number>>;
  /**
   * The same failures by when they were due: "warm-up", "before <phase>" (its transition), the
   * phase's name, or "after" (the last window closed); stages without failures are absent.
   */
  readonly errorsByStage: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Requests sent in the whole run. */
  readonly sent: number;
}

/** Where settled requests of one phase go. */
interface PhaseBook {
  ok: number;
  readonly latency: LatencyRecorder;
  readonly errorLatency: LatencyRecorder;
  readonly errors: Record<string, number>;
  readonly versions: Record<string, number>;
}

/** The tallies of a phased run: the pure bookkeeping of {@link phasedOpenLoop}. */
export interface PhaseTally {
  /** Records a successful request due during phase `phase` (-1: unmeasured), answered by `version`. */
  answered(phase: number, latencyMs: number, version: string): void;
  /** Records how late a request due during phase `phase` (-1: unmeasured) was sent. */
  sentLate(phase: number, latenessMs: number): void;
  /** Records a failed request due during phase `phase` (-1: unmeasured); it counts in the run's errors too. */
  failed(phase: number, latencyMs: number, err: unknown): void;
  /** The phase's books. */
  phase(phase: number): Readonly<PhaseBook>;
  /** Latency of each group's successful requests (phases of no group are in none). */
  groups(): Record<string, LatencySummary>;
  /** Send lateness of each group's requests, failed ones included. */
  sendLateness(): Record<string, LatencySummary>;
  /** The run's failures by code. */
  readonly errors: Readonly<Record<string, number>>;
}

function newBook(): PhaseBook {
  return {
    ok: 0,
    latency: createLatencyRecorder(),
    errorLatency: createLatencyRecorder(),
    errors: {},
    versions: {},
  };
}

/** Creates the books of measured phases, one per entry of `groups` (each phase's group, undefined for none). */
export function createPhaseTally(groups: readonly (string | undefined)[]): PhaseTally {
  const books = groups.map(() => newBook());
  const groupLatency = new Map<string, LatencyRecorder>();
  const groupLateness = new Map<string, LatencyRecorder>();
  for (const g of groups) {
    if (g !== undefined && !groupLatency.has(g)) {
      groupLatency.set(g, createLatencyRecorder());
      groupLateness.set(g, createLatencyRecorder());
    }
  }
  const summaries = (recorders: Map<string, LatencyRecorder>) =>
    Object.fromEntries([...recorders].map(([g, r]) => [g, r.summary()]));
  const errors: Record<string, number> = {};
  const bookOf = (phase: number): PhaseBook | undefined => (phase < 0 ? undefined : books[phase]);
  return {
    answered(phase, latencyMs, version) {
      const book = bookOf(phase);
      if (book === undefined) return;
      book.ok++;
      book.latency.record(latencyMs);
      book.versions[version] = (book.versions[version] ?? 0) + 1;
      const group = groups[phase];
      if (group !== undefined) groupLatency.get(group)?.record(latencyMs);
    },
    sentLate(phase, latenessMs) {
      const group = phase < 0 ? undefined : groups[phase];
      if (group !== undefined) groupLateness.get(group)?.record(latenessMs);
    },
    failed(phase, latencyMs, err) {
      const code = errorCodeOf(err);
      errors[code] = (errors[code] ?? 0) + 1;
      const book = bookOf(phase);
      if (book === undefined) return;
      book.errors[code] = (book.errors[code] ?? 0) + 1;
      book.errorLatency.record(latencyMs);
    },
    phase(phase) {
      const book = books[phase];
      if (book === undefined) throw new RangeError(`no phase ${phase}`);
      return book;
    },
    groups() {
      return summaries(groupLatency);
    },
    sendLateness() {
      return summaries(groupLateness);
    },
    errors,
  };
}

/** Runs the phases in order under one uninterrupted open loop; resolves once every request answered. */
export async function phasedOpenLoop(call: VersionedCall, options: PhasedOpenLoopOptions): Promise<PhasedLoadResult> {
  const tally = createPhaseTally(options.phases.map((p) => p.group));
  const maxInFlight = options.maxInFlight ?? 20_000;
  const intervalMs = 1000 / options.rate;
  const start = performance.now();
  let current = -1;
  let stage = "warm-up";
  const errorsByStage: Record<string, Record<string, number>> = {};
  let sent = 0;
  let inFlight = 0;
  let stop = false;
  const pending = new Set<Promise<void>>();
  const failed = (phase: number, dueStage: string, latencyMs: number, err: unknown): void => {
    tally.failed(phase, latencyMs, err);
    const byCode = errorsByStage[dueStage] ?? {};
    errorsByStage[dueStage] = byCode;
    const code = errorCodeOf(err);
    byCode[code] = (byCode[code] ?? 0) + 1;
  };
  const fire = (intended: number, phase: number, dueStage: string): void => {
    if (inFlight >= maxInFlight) {
      failed(phase, dueStage, 0, { code: "generator_backlog" });
      return;
    }
    inFlight++;
    tally.sentLate(phase, performance.now() - intended);
    const done = call()
      .then(
        (version) => tally.answered(phase, performance.now() - intended, version),
        (err: unknown) => failed(phase, dueStage, performance.now() - intended, err),
      )
      .finally(() => {
        inFlight--;
        pending.delete(done);
      });
    pending.add(done);
  };
  const ticker = (async () => {
    while (!stop) {
      const due = dueCount(performance.now() - start, intervalMs);
      while (sent < due) {
        fire(start + sent * intervalMs, current, stage);
        sent++;
      }
      // As openLoop: a 1 ms tick, the burst charged to latency through the intended send times.
      await sleep(1);
    }
  })();

  const settled = options.settledInFlight ?? Math.ceil(options.rate / 10);
  const windows: { seconds: number; cpu: number; before: number; inFlight: number }[] = [];
  try {
    await sleep(options.warmupSeconds * 1000);
    for (const [i, spec] of options.phases.entries()) {
      const b0 = performance.now();
      stage = `before ${spec.name}`;
      await spec.before?.();
      while (inFlight > settled && performance.now() - b0 < settleTimeoutMs) await sleep(10);
      const before = (performance.now() - b0) / 1000;
      const inFlightAtOpen = inFlight;
      await spec.window?.opened();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      current = i;
      stage = spec.name;
      await sleep(spec.seconds * 1000);
      current = -1;
      stage = "after";
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      windows.push({ seconds, cpu: (cpu.user + cpu.system) / 1e6 / seconds, before, inFlight: inFlightAtOpen });
      await spec.window?.closed();
    }
  } finally {
    stop = true;
    await ticker;
    await Promise.all(pending);
  }

  return {
    phases: options.phases.map((spec, i) => {
      const book = tally.phase(i);
      const w = windows[i] ?? { seconds: spec.seconds, cpu: 0, before: 0, inFlight: 0 };
      const load: LoadResult = {
        mode: "open",
        concurrency: undefined,
        targetRate: options.rate,
        seconds: w.seconds,
        throughput: book.ok / w.seconds,
        ok: book.ok,
        latencyMs: book.latency.summary(),
        errors: { ...book.errors },
        errorLatencyMs: book.errorLatency.summary(),
        generatorCpuCores: w.cpu,
      };
      return {
        name: spec.name,
        load,
        versions: { ...book.versions },
        beforeSeconds: w.before,
        inFlightAtOpen: w.inFlight,
      };
    }),
    groups: tally.groups(),
    sendLateness: tally.sendLateness(),
    errors: { ...tally.errors },
    errorsByStage,
    sent,
  };
}
