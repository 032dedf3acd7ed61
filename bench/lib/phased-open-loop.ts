/**
 * An open loop (fixed request rate, latency from each request's intended send time, as
 * load-generator.ts's `openLoop`) that keeps sending through several measured phases of one run,
 * with an unmeasured transition before each phase (e.g. a registry change and the wait until every
 * server process applied it). Each request belongs to the phase during which it was *due*, so a
 * slow answer that arrives after its window closed still counts where it was sent; requests due
 * during the warm-up or a transition are not measured, but their failures are counted (a failure
 * anywhere in the run is a failure). Each successful call resolves with the model version that
 * answered, counted per phase: the traffic split as the callers saw it.
 *
 * With several targets (e.g. two servers compared at the same moment), the requests go to them in
 * turn, and each phase books every target's answers apart as well as together; a phase's groups
 * can then differ by target (the server with a change in one group, its twin in another).
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
   * summary over all their requests: one group for every target's requests, or per target (index:
   * the target) the groups its requests go in; default none.
   */
  readonly group?: PhaseGroups;
  /**
   * Awaited before the phase's window opens while the load keeps going (its requests are not
   * measured): a change to make and its wait, bounded by the caller.
   */
  readonly before?: () => Promise<void>;
  /** Called right when the window opens and right after it closes (server CPU, /metrics). */
  readonly window?: WindowHooks;
}

/** The groups of one phase's requests: one for every target, or per target the list of its groups. */
export type PhaseGroups = string | readonly (readonly string[])[];

/** The groups a request of target `target` is booked in when its phase has `groups`. */
function groupsOf(groups: PhaseGroups | undefined, target: number): readonly string[] {
  if (groups === undefined) return [];
  return typeof groups === "string" ? [groups] : (groups[target] ?? []);
}

/** Options of {@link phasedOpenLoop}. */
export interface PhasedOpenLoopOptions {
  /** Requests per second (every target's together), the same in every phase and transition. */
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

/** What one target answered in one phase. */
export interface PhaseTargetResult {
  /** Successful answers. */
  readonly ok: number;
  /** Latency of the successful answers, ms. */
  readonly latencyMs: LatencySummary;
  /** Successful answers by the version that answered. */
  readonly versions: Readonly<Record<string, number>>;
  /** Failed requests by code. */
  readonly errors: Readonly<Record<string, number>>;
}

/** What one phase saw. */
export interface PhaseResult {
  readonly name: string;
  /** The phase as an open-loop load measurement (its `errors` are the phase's own). */
  readonly load: LoadResult;
  /** Successful answers of the phase by the version that answered. */
  readonly versions: Readonly<Record<string, number>>;
  /** The same answers by target, in the order of the calls. */
  readonly targets: readonly PhaseTargetResult[];
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

/** Where one target's answers of one phase go. */
interface TargetBook {
  ok: number;
  readonly latency: LatencyRecorder;
  readonly versions: Record<string, number>;
  readonly errors: Record<string, number>;
}

/** Where settled requests of one phase go. */
interface PhaseBook {
  ok: number;
  readonly latency: LatencyRecorder;
  readonly errorLatency: LatencyRecorder;
  readonly errors: Record<string, number>;
  readonly versions: Record<string, number>;
  readonly targets: readonly TargetBook[];
}

/** The tallies of a phased run: the pure bookkeeping of {@link phasedOpenLoop}. */
export interface PhaseTally {
  /**
   * Records a successful request to target `target` (default 0) due during phase `phase` (-1:
   * unmeasured), answered by `version`.
   */
  answered(phase: number, latencyMs: number, version: string, target?: number): void;
  /** Records how late a request to target `target` (default 0) due during phase `phase` (-1: unmeasured) was sent. */
  sentLate(phase: number, latenessMs: number, target?: number): void;
  /**
   * Records a failed request to target `target` (default 0) due during phase `phase` (-1:
   * unmeasured); it counts in the run's errors too.
   */
  failed(phase: number, latencyMs: number, err: unknown, target?: number): void;
  /** The phase's books. */
  phase(phase: number): Readonly<PhaseBook>;
  /** Latency of each group's successful requests (phases of no group are in none). */
  groups(): Record<string, LatencySummary>;
  /** Send lateness of each group's requests, failed ones included. */
  sendLateness(): Record<string, LatencySummary>;
  /** The run's failures by code. */
  readonly errors: Readonly<Record<string, number>>;
}

function newBook(targets: number): PhaseBook {
  return {
    ok: 0,
    latency: createLatencyRecorder(),
    errorLatency: createLatencyRecorder(),
    errors: {},
    versions: {},
    targets: Array.from({ length: targets }, () => ({
      ok: 0,
      latency: createLatencyRecorder(),
      versions: {},
      errors: {},
    })),
  };
}

/**
 * Creates the books of measured phases, one per entry of `groups` (each phase's groups, undefined
 * for none), for requests to `targets` targets (default 1).
 */
export function createPhaseTally(groups: readonly (PhaseGroups | undefined)[], targets = 1): PhaseTally {
  if (!Number.isInteger(targets) || targets < 1)
    throw new RangeError(`targets must be a positive integer, got ${targets}`);
  const books = groups.map(() => newBook(targets));
  const groupLatency = new Map<string, LatencyRecorder>();
  const groupLateness = new Map<string, LatencyRecorder>();
  for (const phaseGroups of groups) {
    for (let t = 0; t < targets; t++) {
      for (const g of groupsOf(phaseGroups, t)) {
        if (!groupLatency.has(g)) {
          groupLatency.set(g, createLatencyRecorder());
          groupLateness.set(g, createLatencyRecorder());
        }
      }
    }
  }
  const targetBook = (book: PhaseBook, target: number): TargetBook => {
    const tb = book.targets[target];
    if (tb === undefined) throw new RangeError(`no target ${target}`);
    return tb;
  };
  const summaries = (recorders: Map<string, LatencyRecorder>) =>
    Object.fromEntries([...recorders].map(([g, r]) => [g, r.summary()]));
  const errors: Record<string, number> = {};
  const bookOf = (phase: number): PhaseBook | undefined => (phase < 0 ? undefined : books[phase]);
  return {
    answered(phase, latencyMs, version, target = 0) {
      const book = bookOf(phase);
      if (book === undefined) return;
      const tb = targetBook(book, target);
      book.ok++;
      book.latency.record(latencyMs);
      book.versions[version] = (book.versions[version] ?? 0) + 1;
      tb.ok++;
      tb.latency.record(latencyMs);
      tb.versions[version] = (tb.versions[version] ?? 0) + 1;
      for (const g of groupsOf(groups[phase], target)) groupLatency.get(g)?.record(latencyMs);
    },
    sentLate(phase, latenessMs, target = 0) {
      if (phase < 0) return;
      for (const g of groupsOf(groups[phase], target)) groupLateness.get(g)?.record(latenessMs);
    },
    failed(phase, latencyMs, err, target = 0) {
      const code = errorCodeOf(err);
      errors[code] = (errors[code] ?? 0) + 1;
      const book = bookOf(phase);
      if (book === undefined) return;
      const tb = targetBook(book, target);
      book.errors[code] = (book.errors[code] ?? 0) + 1;
      book.errorLatency.record(latencyMs);
      tb.errors[code] = (tb.errors[code] ?? 0) + 1;
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

/**
 * Runs the phases in order under one uninterrupted open loop, sending to `call` or in turn to each
 * of several calls; resolves once every request answered.
 */
export async function phasedOpenLoop(
  call: VersionedCall | readonly VersionedCall[],
  options: PhasedOpenLoopOptions,
): Promise<PhasedLoadResult> {
  const calls = typeof call === "function" ? [call] : call;
  if (calls.length === 0) throw new RangeError("phasedOpenLoop needs at least one call");
  const tally = createPhaseTally(
    options.phases.map((p) => p.group),
    calls.length,
  );
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
  const failed = (phase: number, dueStage: string, latencyMs: number, err: unknown, target: number): void => {
    tally.failed(phase, latencyMs, err, target);
    const byCode = errorsByStage[dueStage] ?? {};
    errorsByStage[dueStage] = byCode;
    const code = errorCodeOf(err);
    byCode[code] = (byCode[code] ?? 0) + 1;
  };
  const fire = (intended: number, phase: number, dueStage: string, target: number): void => {
    if (inFlight >= maxInFlight) {
      failed(phase, dueStage, 0, { code: "generator_backlog" }, target);
      return;
    }
    inFlight++;
    tally.sentLate(phase, performance.now() - intended, target);
    const send = calls[target] as VersionedCall;
    const done = send()
      .then(
        (version) => tally.answered(phase, performance.now() - intended, version, target),
        (err: unknown) => failed(phase, dueStage, performance.now() - intended, err, target),
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
        fire(start + sent * intervalMs, current, stage, sent % calls.length);
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
        targets: book.targets.map((tb) => ({
          ok: tb.ok,
          latencyMs: tb.latency.summary(),
          versions: { ...tb.versions },
          errors: { ...tb.errors },
        })),
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
