/**
 * The two load modes of the benchmarks, both measuring a warm-up period first and throwing its
 * numbers away:
 *
 * - closed loop: `concurrency` callers, each sending its next request when the previous answers
 *   (throughput at a given concurrency; latency as a client that waits sees it);
 * - open loop: requests sent at a fixed rate whatever happens to the earlier ones, each timed from
 *   its *intended* send time, so a stalled server (or generator) shows up in the latency instead of
 *   silently lowering the rate (coordinated omission, as wrk2 and HdrHistogram describe it).
 */
import { createLatencyRecorder, type LatencySummary } from "./latency.js";

/**
 * Sends one request; resolves on success. A failure rejects with an error that
 * {@link errorCodeOf} can name (a gRPC status, a Connect code or an HTTP status).
 */
export type Call = () => Promise<void>;

/** What one measurement of a load mode saw (warm-up excluded). */
export interface LoadResult {
  /** "closed" or "open". */
  readonly mode: "closed" | "open";
  /** Closed loop: concurrent callers. Open loop: undefined. */
  readonly concurrency: number | undefined;
  /** Open loop: requests per second asked for. Closed loop: undefined. */
  readonly targetRate: number | undefined;
  /** Measured seconds. */
  readonly seconds: number;
  /** Successful requests per second. */
  readonly throughput: number;
  /** Requests that succeeded. */
  readonly ok: number;
  /** Latency of successful requests (open loop: from the intended send time), ms. */
  readonly latencyMs: LatencySummary;
  /** Failed requests by error code (e.g. RESOURCE_EXHAUSTED, http_429). */
  readonly errors: Record<string, number>;
  /** Latency of failed requests, ms (how fast load shedding answers). */
  readonly errorLatencyMs: LatencySummary;
  /** CPU of the generator (this process; wrk for lib/wrk-load.ts) per measured second (1 = one core). */
  readonly generatorCpuCores: number;
}

/** Settings shared by both modes. */
export interface LoadTiming {
  /** Seconds of warm-up, excluded from the numbers. */
  readonly warmupSeconds: number;
  /** Measured seconds. */
  readonly durationSeconds: number;
  /**
   * Called (and awaited) right when the measured window opens and right after it closes, to read
   * the server's CPU time and /metrics over exactly that window.
   */
  readonly window?: WindowHooks;
}

/** See {@link LoadTiming.window}. */
export interface WindowHooks {
  opened(): Promise<void>;
  closed(): Promise<void>;
}

const grpcCodeNames = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

/** An HTTP failure of a JSON route, named `http_<status>` by {@link errorCodeOf}. */
export class HttpStatusError extends Error {
  override readonly name = "HttpStatusError";
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/**
 * Names an error for the error table: the gRPC code name for grpc-js and Connect errors (both carry
 * a numeric `code`), `http_<status>` for JSON routes, else the error's name.
 */
export function errorCodeOf(err: unknown): string {
  if (err instanceof HttpStatusError) return `http_${err.status}`;
  if (typeof err === "object" && err !== null && "code" in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === "number") return grpcCodeNames[code] ?? `code_${code}`;
    if (typeof code === "string") return code;
  }
  return err instanceof Error ? err.name : "unknown";
}

interface Tally {
  measuring: boolean;
  ok: number;
  readonly latency: ReturnType<typeof createLatencyRecorder>;
  readonly errorLatency: ReturnType<typeof createLatencyRecorder>;
  readonly errors: Record<string, number>;
}

function newTally(): Tally {
  return {
    measuring: false,
    ok: 0,
    latency: createLatencyRecorder(),
    errorLatency: createLatencyRecorder(),
    errors: {},
  };
}

function settle(tally: Tally, started: number, err: unknown, failed: boolean): void {
  if (!tally.measuring) return;
  const ms = performance.now() - started;
  if (failed) {
    const code = errorCodeOf(err);
    tally.errors[code] = (tally.errors[code] ?? 0) + 1;
    tally.errorLatency.record(ms);
  } else {
    tally.ok++;
    tally.latency.record(ms);
  }
}

async function measure(tally: Tally, timing: LoadTiming): Promise<{ seconds: number; cpu: number; okAtEnd: number }> {
  await sleep(timing.warmupSeconds * 1000);
  await timing.window?.opened();
  tally.measuring = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(timing.durationSeconds * 1000);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const okAtEnd = tally.ok;
  tally.measuring = false;
  await timing.window?.closed();
  return {
    seconds,
    cpu: (cpu.user + cpu.system) / 1e6 / seconds,
    okAtEnd,
  };
}

/** Runs `concurrency` callers back to back for warm-up + duration. */
export async function closedLoop(call: Call, concurrency: number, timing: LoadTiming): Promise<LoadResult> {
  const tally = newTally();
  let stop = false;
  const callers = Array.from({ length: concurrency }, async () => {
    while (!stop) {
      const started = performance.now();
      try {
        await call();
        settle(tally, started, undefined, false);
      } catch (err) {
        settle(tally, started, err, true);
        // A caller that fails instantly must not spin the event loop.
        await new Promise((r) => setImmediate(r));
      }
    }
  });
  const m = await measure(tally, timing);
  stop = true;
  await Promise.all(callers);
  return {
    mode: "closed",
    concurrency,
    targetRate: undefined,
    seconds: m.seconds,
    throughput: m.okAtEnd / m.seconds,
    ok: m.okAtEnd,
    latencyMs: tally.latency.summary(),
    errors: tally.errors,
    errorLatencyMs: tally.errorLatency.summary(),
    generatorCpuCores: m.cpu,
  };
}

/** Options of {@link openLoop}. */
export interface OpenLoopOptions extends LoadTiming {
  /** Requests per second. */
  readonly rate: number;
  /**
   * Requests allowed in flight before the generator counts new ones as `generator_backlog`
   * instead of sending them (protects the generator's memory; default 20,000).
   */
  readonly maxInFlight?: number;
}

/**
 * How many requests of an open loop are due `elapsedMs` after its start: request k's intended
 * send time is k intervals after the start, so request 0 is due at once. (Counting only whole
 * intervals elapsed, floor(elapsed / interval), sends request k one interval after its intended
 * time and charges that interval to every request: 2 ms each at 500 requests/s.)
 */
export function dueCount(elapsedMs: number, intervalMs: number): number {
  return Math.floor(elapsedMs / intervalMs) + 1;
}

/** Sends requests at a fixed rate; latency counts from each request's intended send time. */
export async function openLoop(call: Call, options: OpenLoopOptions): Promise<LoadResult> {
  const tally = newTally();
  const maxInFlight = options.maxInFlight ?? 20_000;
  const intervalMs = 1000 / options.rate;
  const start = performance.now();
  let sent = 0;
  let inFlight = 0;
  let stop = false;
  const pending = new Set<Promise<void>>();
  const fire = (intended: number): void => {
    if (inFlight >= maxInFlight) {
      settle(tally, intended, { code: "generator_backlog" }, true);
      return;
    }
    inFlight++;
    const p = call().then(
      () => settle(tally, intended, undefined, false),
      (err: unknown) => settle(tally, intended, err, true),
    );
    const done = p.finally(() => {
      inFlight--;
      pending.delete(done);
    });
    pending.add(done);
  };
  const ticker = (async () => {
    while (!stop) {
      const due = dueCount(performance.now() - start, intervalMs);
      while (sent < due) {
        fire(start + sent * intervalMs);
        sent++;
      }
      // A 1 ms tick sends what fell due in a small burst; spinning on setImmediate would keep a
      // core busy that the server under test needs. The burst is charged to latency anyway,
      // since every request is timed from its intended send time.
      await sleep(1);
    }
  })();
  const m = await measure(tally, options);
  stop = true;
  await ticker;
  await Promise.all(pending);
  return {
    mode: "open",
    concurrency: undefined,
    targetRate: options.rate,
    seconds: m.seconds,
    throughput: m.okAtEnd / m.seconds,
    ok: m.okAtEnd,
    latencyMs: tally.latency.summary(),
    errors: tally.errors,
    errorLatencyMs: tally.errorLatency.summary(),
    generatorCpuCores: m.cpu,
  };
}

/** Sums an error table. */
export function errorTotal(errors: Readonly<Record<string, number>>): number {
  return Object.values(errors).reduce((a, b) => a + b, 0);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
