/**
 * The closed loop of JSON `POST /predict` driven by wrk (https://github.com/wg/wrk) instead of the
 * Node generator of load-generator.ts.
 *
 * Why: on a 2-core machine the single-threaded Node generator saturates one core before the
 * servers do. The no-op server, which does nothing, measured 17-30k req/s with the generator at
 * 1.04 cores and the server at 0.58: the scenario measured the generator, not the servers. wrk
 * (C, multi-threaded, about 5x cheaper per request) is also what the inference issue's reference
 * numbers were measured with. The overload (open-loop) scenarios keep the Node generator: wrk has
 * no open loop, and they are built so that the server saturates first.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LatencySummary } from "./latency.js";
import type { LoadResult, LoadTiming } from "./load-generator.js";

let wrkPath: string | null | undefined;

/**
 * The wrk executable ("wrk", from the PATH) when it runs here, else undefined; probed once per
 * process, so that every server of a scenario goes through the same generator.
 */
export function findWrk(): string | undefined {
  if (wrkPath === undefined) {
    // `wrk --version` prints its version and usage and exits with 1: spawning at all is the test.
    const probe = spawnSync("wrk", ["--version"], { stdio: "ignore" });
    wrkPath = probe.error === undefined ? "wrk" : null;
  }
  return wrkPath ?? undefined;
}

/** Options of {@link wrkClosedLoop}. */
export interface WrkClosedLoopOptions extends LoadTiming {
  /** The full URL requests go to, path included (http://127.0.0.1:8080/predict). */
  readonly url: string;
  /** JSON request bodies, sent in turn, one per request (each wrk thread cycles on its own). */
  readonly bodies: readonly string[];
  /** Keep-alive HTTP/1.1 connections, each sending its next request when the previous answers. */
  readonly concurrency: number;
}

/** What one wrk run reported from its `done` hook; times in µs. */
interface WrkReport {
  readonly requests: number;
  readonly durationUs: number;
  readonly errors: {
    readonly connect: number;
    readonly read: number;
    readonly write: number;
    /** Responses with a status above 399. */
    readonly status: number;
    readonly timeout: number;
  };
  /** The percentiles, max and mean of a LatencySummary, in µs. */
  readonly latencyUs: Omit<LatencySummary, "count">;
}

const resultMarker = "WRK_RESULT ";
const statMarker = "BASH_STAT ";

/**
 * Runs wrk as the child of a bash that, once wrk exited, prints its own /proc stat: cutime and
 * cstime there are the CPU time of the children it waited for, wrk alone. Node's child_process
 * cannot report a child's CPU time, and /proc/<wrk pid>/stat is gone once wrk exited.
 */
const wrapper = `wrk "$@"; s=$?; read -r st < /proc/$$/stat; echo "${statMarker}$st"; exit $s`;

let clockTicks: number | undefined;

/** Clock ticks per second of /proc stat times (`getconf CLK_TCK`; 100 when that cannot run). */
function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
      clockTicks = Number.isFinite(n) && n > 0 ? n : 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * The CPU time of the waited-for children in a /proc/<pid>/stat line: cutime + cstime (fields 16
 * and 17), in clock ticks; undefined when the line is not one. Field 2, the command name in
 * parentheses, may itself hold spaces and ')', so fields are counted after the last ')'.
 */
export function childCpuTicks(stat: string): number | undefined {
  const close = stat.lastIndexOf(")");
  if (close < 0) return undefined;
  // After ") " come the fields from 3 (state) on.
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const cutime = Number(fields[16 - 3]);
  const cstime = Number(fields[17 - 3]);
  return Number.isInteger(cutime) && Number.isInteger(cstime) ? cutime + cstime : undefined;
}

/** `s` as a Lua string literal: printable ASCII as is, every other byte as a decimal escape. */
function luaString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, "utf8")) {
    const printable = byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c;
    out += printable ? String.fromCharCode(byte) : `\\${byte.toString().padStart(3, "0")}`;
  }
  return `${out}"`;
}

/**
 * The wrk script: requests formatted once per thread in init(), cycled in request(), and the
 * numbers of the run printed as one JSON line after {@link resultMarker} in done(). There is no
 * response() hook: without one wrk skips parsing headers and bodies, which would cost CPU.
 */
function wrkScript(path: string, bodies: readonly string[]): string {
  return `local bodies = { ${bodies.map(luaString).join(", ")} }
local formatted = {}
local turn = 0

function init(args)
  local headers = { ["Content-Type"] = "application/json", ["Host"] = wrk.headers["Host"] }
  for i, body in ipairs(bodies) do
    formatted[i] = wrk.format("POST", ${luaString(path)}, headers, body)
  end
end

function request()
  turn = turn % #formatted + 1
  return formatted[turn]
end

-- A JSON number; NaN (the mean of no requests) becomes 0.
local function num(x)
  if x ~= x then return "0" end
  return string.format("%.3f", x)
end

-- A JSON object from { { key, number or JSON text }, ... }.
local function object(pairs)
  local parts = {}
  for i, p in ipairs(pairs) do
    local v = p[2]
    if type(v) == "number" then v = num(v) end
    parts[i] = '"' .. p[1] .. '":' .. v
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- summary.errors.status counts responses with a status above 399; latency is in microseconds.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(${luaString(resultMarker)} .. object({
    { "requests", summary.requests },
    { "durationUs", summary.duration },
    { "errors", object({
      { "connect", e.connect }, { "read", e.read }, { "write", e.write },
      { "status", e.status }, { "timeout", e.timeout },
    }) },
    { "latencyUs", object({
      { "p50", latency:percentile(50) }, { "p90", latency:percentile(90) },
      { "p95", latency:percentile(95) }, { "p99", latency:percentile(99) },
      { "p999", latency:percentile(99.9) }, { "max", latency.max }, { "mean", latency.mean },
    }) },
  }) .. "\\n")
end
`;
}

/** Output and exit code of one wrk run, and wrk's CPU time in seconds. */
interface WrkRun {
  readonly report: WrkReport;
  readonly cpuSeconds: number;
}

/** Runs wrk once with `args` (the URL last) and reads its report and CPU time. */
function runWrk(args: readonly string[]): Promise<WrkRun> {
  return new Promise<WrkRun>((resolve, reject) => {
    const child = spawn("bash", ["-c", wrapper, "bash", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => stdout.push(c));
    child.stderr.on("data", (c: Buffer) => stderr.push(c));
    child.once("error", reject);
    child.once("close", (code, signal) => {
      const out = Buffer.concat(stdout).toString("utf8");
      const err = Buffer.concat(stderr).toString("utf8").trim();
      const lines = out.split("\n");
      const result = lines.find((l) => l.startsWith(resultMarker));
      const stat = lines.find((l) => l.startsWith(statMarker));
      if (code !== 0 || result === undefined) {
        // wrk prints some failures (a bad URL, a refused connection) on stdout.
        const why = err || out.trim();
        reject(new Error(`wrk ${args.join(" ")} failed (${signal ?? `exit ${code}`}): ${why || "no result line"}`));
        return;
      }
      const ticks = stat === undefined ? undefined : childCpuTicks(stat.slice(statMarker.length));
      if (ticks === undefined) {
        reject(new Error(`wrk's CPU time unreadable (no /proc?): ${stat ?? "no stat line"}`));
        return;
      }
      resolve({
        report: JSON.parse(result.slice(resultMarker.length)) as WrkReport,
        cpuSeconds: ticks / clockTicksPerSecond(),
      });
    });
  });
}

/**
 * wrk takes whole seconds only (`-d 0.5s` is refused): fractions round up. The result's `seconds`
 * is what wrk measured, not what was asked.
 */
const wholeSeconds = (s: number): string => `${Math.max(1, Math.ceil(s))}s`;

/**
 * A closed loop of `concurrency` keep-alive connections POSTing `bodies` in turn to `url`, run by
 * wrk: a warm-up run (its numbers discarded), then the measured run between the window hooks.
 * Each run opens its own connections. Latency covers every answer, failed ones included (wrk does
 * not time them apart), so `errorLatencyMs` is empty. `generatorCpuCores` is wrk's CPU time per
 * measured second. Rejects when wrk fails or reports nothing; connection errors and statuses above
 * 399 are counted in `errors`, not thrown.
 */
export async function wrkClosedLoop(options: WrkClosedLoopOptions): Promise<LoadResult> {
  if (options.bodies.length === 0) throw new Error("wrkClosedLoop: no request bodies");
  const url = new URL(options.url);
  const dir = await mkdtemp(join(tmpdir(), "mlpipe-wrk-"));
  try {
    const script = join(dir, "post-bodies.lua");
    await writeFile(script, wrkScript(url.pathname + url.search, options.bodies));
    const threads = Math.min(2, options.concurrency);
    const args = (seconds: number): string[] => [
      ...["-t", String(threads), "-c", String(options.concurrency), "-d", wholeSeconds(seconds)],
      ...["--timeout", "10s", "-s", script, url.href],
    ];
    if (options.warmupSeconds > 0) await runWrk(args(options.warmupSeconds));
    await options.window?.opened();
    const run = await runWrk(args(options.durationSeconds));
    await options.window?.closed();
    return loadResult(run, options.concurrency);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function loadResult({ report, cpuSeconds }: WrkRun, concurrency: number): LoadResult {
  const seconds = report.durationUs / 1e6;
  const e = report.errors;
  const ok = report.requests - e.status;
  const ms = (us: number): number => (report.requests === 0 ? 0 : us / 1000);
  const l = report.latencyUs;
  const latencyMs: LatencySummary = {
    count: report.requests,
    p50: ms(l.p50),
    p90: ms(l.p90),
    p95: ms(l.p95),
    p99: ms(l.p99),
    p999: ms(l.p999),
    max: ms(l.max),
    mean: ms(l.mean),
  };
  const errors = Object.fromEntries(
    Object.entries({
      http_error: e.status,
      socket_connect: e.connect,
      socket_read: e.read,
      socket_write: e.write,
      socket_timeout: e.timeout,
    }).filter(([, n]) => n > 0),
  );
  return {
    mode: "closed",
    concurrency,
    targetRate: undefined,
    seconds,
    throughput: seconds > 0 ? ok / seconds : 0,
    ok,
    latencyMs,
    errors,
    errorLatencyMs: { count: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0, mean: 0 },
    generatorCpuCores: seconds > 0 ? cpuSeconds / seconds : 0,
  };
}
