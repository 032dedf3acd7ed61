/**
 * Shadow traffic: requests mirrored to another version of the model (the aliases of the model tag
 * `mlpipe.shadow`) whose answers are compared with the primary's and never returned.
 *
 * The caller's latency must not grow, so a mirror starts only after the primary has answered (on a
 * later turn of the event loop, once the answer is written), goes through a bounded queue and at
 * most `concurrency` mirrors run at once; a mirror that finds the queue full is dropped and
 * counted. Mirrors gather (`gatherMs`, or until `concurrency` of them wait) and start together,
 * so the shadow version's batcher runs them as one batch (`LoadedModel.shadowBatcher`: on the
 * event loop for a version cheap enough to run there, else on the shadow thread at the lowest CPU
 * priority): at a moderate rate, one model run per interval instead of one per request. A mirror
 * has its own deadline, so a stuck shadow frees its slot. Outcomes, per model and alias (bounded: served models and the aliases
 * of a validated tag): `agree` (every row's predicted class equal, or regression values within the
 * tolerance), `disagree`, `error` (the shadow failed, timed out, was not loaded or takes other
 * inputs) and `dropped`; the shadow's latency is a histogram of its own.
 */
import type { Counter, Histogram } from "prom-client";
import type { LoadedModel, RowsInput, RowsOutput } from "../models/model-manager.js";
import { type Prediction, readPredictions } from "../models/prediction-reader.js";
import type { ShadowTarget } from "./model-traffic.js";

/** The metrics a mirror reports to (InferenceMetrics has them). */
export interface ShadowMetrics {
  /** `shadow_requests_total{model, alias, outcome}`. */
  readonly shadowRequests: Counter<"model" | "alias" | "outcome">;
  /** `shadow_latency_seconds{model, alias}`: from a mirror's start to the shadow's answer. */
  readonly shadowLatency: Histogram<"model" | "alias">;
}

/** Options of {@link createShadowMirror}. */
export interface ShadowMirrorOptions {
  readonly metrics: ShadowMetrics;
  /** Mirrors waiting to start before new ones are dropped; default 256. */
  readonly maxQueued?: number | undefined;
  /** Mirrors running at once; default 16. */
  readonly concurrency?: number | undefined;
  /** Longest a mirror may take, in milliseconds, before it counts as an error; default 5000. */
  readonly timeoutMs?: number | undefined;
  /** Regression values agree when |shadow - primary| <= tolerance * max(1, |primary|); default 1e-6. */
  readonly tolerance?: number | undefined;
  /**
   * Longest a mirror waits for others before they start together, in milliseconds; default 20.
   * They start at once when `concurrency` of them wait. 0: on the next turn of the event loop.
   */
  readonly gatherMs?: number | undefined;
}

/** A request answered by the primary, to mirror. */
export interface MirroredRequest {
  /** The served model's name (metric label). */
  readonly model: string;
  /** The primary version that answered and its outputs. */
  readonly primary: LoadedModel;
  readonly outputs: RowsOutput;
  /** The request's rows: a copy the primary did not hand to a worker. */
  readonly input: RowsInput;
}

/** The shadow mirror of one server. */
export interface ShadowMirror {
  /** Mirrors `request` to each of `targets` (after the current turn of the event loop), or counts it dropped. */
  offer(request: MirroredRequest, targets: readonly ShadowTarget[]): void;
  /** Mirrors queued or running now. */
  readonly pending: number;
  /** Drops the queued mirrors (counted) and resolves once the running ones finish. */
  close(): Promise<void>;
}

interface Job {
  readonly request: MirroredRequest;
  readonly target: ShadowTarget;
}

/** Creates a mirror with an empty queue. */
export function createShadowMirror(options: ShadowMirrorOptions): ShadowMirror {
  const { metrics } = options;
  const maxQueued = options.maxQueued ?? 256;
  const concurrency = options.concurrency ?? 16;
  const timeoutMs = options.timeoutMs ?? 5000;
  const tolerance = options.tolerance ?? 1e-6;
  const gatherMs = options.gatherMs ?? 20;
  const queue: Job[] = [];
  let running = 0;
  /** A pump is due on the next turn. */
  let scheduled = false;
  /** The gathering's timer, while mirrors wait for others. */
  let gathering: NodeJS.Timeout | undefined;
  let closed = false;
  let idle: (() => void)[] = [];

  const count = (job: Job, outcome: "agree" | "disagree" | "error" | "dropped") =>
    metrics.shadowRequests.inc({ model: job.request.model, alias: job.target.alias, outcome });

  function agrees(primary: LoadedModel, a: readonly Prediction[], b: readonly Prediction[]): boolean {
    if (a.length !== b.length) return false;
    const regression = primary.signature.interpretation.task === "regression";
    for (let i = 0; i < a.length; i++) {
      const x = (a[i] as Prediction).prediction;
      const y = (b[i] as Prediction).prediction;
      if (regression ? !(Math.abs(x - y) <= tolerance * Math.max(1, Math.abs(x))) : x !== y) return false;
    }
    return true;
  }

  async function run(job: Job): Promise<void> {
    const { request, target } = job;
    const started = performance.now();
    let shadow: LoadedModel;
    try {
      shadow = target.manager.resolve("");
    } catch {
      count(job, "error");
      return;
    }
    const a = request.primary.signature.input;
    const b = shadow.signature.input;
    if (a.features !== b.features || a.dtype !== b.dtype) {
      count(job, "error");
      return;
    }
    let outputs: RowsOutput;
    try {
      outputs = await shadow.shadowBatcher.submit({
        rows: request.input.rows,
        input: request.input,
        deadline: started + timeoutMs,
      });
    } catch {
      count(job, "error");
      return;
    }
    metrics.shadowLatency.observe({ model: request.model, alias: target.alias }, (performance.now() - started) / 1000);
    const rows = request.input.rows;
    const primary = readPredictions(request.primary.signature.interpretation, request.outputs, rows);
    const mirrored = readPredictions(shadow.signature.interpretation, outputs, rows);
    count(job, agrees(request.primary, primary, mirrored) ? "agree" : "disagree");
  }

  function pump(): void {
    scheduled = false;
    if (gathering !== undefined) {
      clearTimeout(gathering);
      gathering = undefined;
    }
    while (running < concurrency && queue.length > 0 && !closed) {
      const job = queue.shift() as Job;
      running++;
      void run(job).finally(() => {
        running--;
        if (running === 0 && queue.length === 0) {
          const waiters = idle;
          idle = [];
          for (const w of waiters) w();
        }
        if (queue.length > 0 && !scheduled) {
          scheduled = true;
          setImmediate(pump);
        }
      });
    }
  }

  return {
    offer(request, targets) {
      for (const target of targets) {
        const job = { request, target };
        if (closed || queue.length >= maxQueued) {
          count(job, "dropped");
          continue;
        }
        queue.push(job);
      }
      // Later: the primary's answer is written first, and the mirrors of an interval start together.
      if (queue.length === 0 || scheduled) return;
      if (gatherMs === 0 || queue.length >= concurrency) {
        scheduled = true;
        setImmediate(pump);
      } else if (gathering === undefined) {
        gathering = setTimeout(pump, gatherMs);
        gathering.unref();
      }
    },
    get pending() {
      return queue.length + running;
    },
    close() {
      closed = true;
      if (gathering !== undefined) clearTimeout(gathering);
      gathering = undefined;
      for (const job of queue.splice(0)) count(job, "dropped");
      if (running === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}
