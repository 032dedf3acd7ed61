/**
 * Admission control of the inference server (issue 4, "Backpressure"): decides, before a
 * prediction request's body is read, whether the server can take it. Under overload the first
 * thing to saturate is the main thread (HTTP parsing, protobuf and JSON decoding), not the
 * batching queue, so a bounded row queue alone never refuses anything: requests wait in socket
 * buffers and latency grows without bound. Two cheap signals bound it instead:
 *
 * - requests in flight at the edge, from the handler's first look at the request to the end of
 *   its response (a stream counts as one request for its whole life);
 * - the event-loop delay, sampled with `perf_hooks.monitorEventLoopDelay` over short windows (as
 *   fastify's under-pressure `maxEventLoopDelay`): a loop that runs late means every request,
 *   admitted or not, waits that long before it is even looked at. Shedding starts after two
 *   windows in a row over the limit (one long synchronous task, a GC pause or a registry query in
 *   the same process, shows up in a single window only, since a blocked timer fires once) and
 *   stops at the first window under it.
 *
 * A refused request is answered at once and never parsed (see load-shedding.ts).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";

/** Why a request was refused: too many requests in flight, or the event loop running late. */
export type ShedReason = "in_flight" | "event_loop_delay";

/** Options of {@link createAdmissionControl}. */
export interface AdmissionControlOptions {
  /** Requests admitted at once (>= 1); the next one is refused until one of them finishes. */
  readonly maxInFlight: number;
  /**
   * Mean event-loop delay in milliseconds over a sampling window beyond which, two windows in a
   * row, every request is refused until a window is back under it; 0 turns the check off.
   */
  readonly maxEventLoopDelayMs: number;
  /** Length of a sampling window in milliseconds (default 100). */
  readonly sampleIntervalMs?: number;
  /**
   * Reads the mean event-loop delay in milliseconds since its previous call. Default: a
   * `monitorEventLoopDelay` histogram at 10 ms resolution, reset at each read. Tests inject one.
   */
  readonly eventLoopDelayMs?: () => number;
  /** Called when the event-loop check starts or stops refusing, with the delay that decided it (ms). */
  readonly onPressureChange?: (underPressure: boolean, delayMs: number) => void;
}

/** The admission decisions of one server. */
export interface AdmissionControl {
  /**
   * Admits a request (counting it in flight; call {@link release} once when it is answered) or
   * returns why it is refused (nothing counted). Constant time.
   */
  tryAdmit(): ShedReason | undefined;
  /** Ends an admitted request. */
  release(): void;
  /** Requests admitted and not released. */
  readonly inFlight: number;
  /** True while requests are refused for event-loop delay (see the module comment). */
  readonly underPressure: boolean;
  /** Stops sampling; admission then depends on in-flight requests only. Idempotent. */
  close(): void;
}

/** The default sampler: mean delay beyond the 10 ms timer resolution, in ms, then a fresh window. */
function defaultEventLoopDelay(): { read: () => number; close: () => void } {
  const resolutionMs = 10;
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  return {
    read: () => {
      // Before the first sample of a window the mean is NaN: nothing ran late.
      const mean = histogram.count === 0 ? 0 : histogram.mean / 1e6;
      histogram.reset();
      return Math.max(0, mean - resolutionMs);
    },
    close: () => histogram.disable(),
  };
}

/** Creates the admission control; with an event-loop limit it samples on an unref'd timer until closed. */
export function createAdmissionControl(options: AdmissionControlOptions): AdmissionControl {
  const { maxInFlight, maxEventLoopDelayMs } = options;
  let inFlight = 0;
  let underPressure = false;
  /** Consecutive sampling windows over the limit. */
  let over = 0;
  let stop: (() => void) | undefined;

  if (maxEventLoopDelayMs > 0) {
    const sampler =
      options.eventLoopDelayMs === undefined ? defaultEventLoopDelay() : { read: options.eventLoopDelayMs };
    const timer = setInterval(() => {
      const delayMs = sampler.read();
      over = delayMs > maxEventLoopDelayMs ? over + 1 : 0;
      const pressure = over >= 2 || (underPressure && over > 0);
      if (pressure !== underPressure) {
        underPressure = pressure;
        options.onPressureChange?.(pressure, delayMs);
      }
    }, options.sampleIntervalMs ?? 100);
    timer.unref();
    stop = () => {
      clearInterval(timer);
      if ("close" in sampler) sampler.close();
      underPressure = false;
    };
  }

  return {
    tryAdmit() {
      if (underPressure) return "event_loop_delay";
      if (inFlight >= maxInFlight) return "in_flight";
      inFlight++;
      return undefined;
    },
    release() {
      if (inFlight > 0) inFlight--;
    },
    get inFlight() {
      return inFlight;
    },
    get underPressure() {
      return underPressure;
    },
    close() {
      stop?.();
      stop = undefined;
    },
  };
}
