/**
 * The process-wide tally of faults no code path handled (an unhandled promise rejection, an
 * uncaught exception), kept here so each server's metrics registry can report it
 * (`process_faults_total{kind}`) without the policy that records it (cli/process-fault-policy.ts)
 * knowing which servers run in the process.
 */
import { Counter, type Registry } from "prom-client";

/** The kinds of last-resort faults: Node's `unhandledRejection` and `uncaughtException` events. */
export type ProcessFaultKind = "unhandled_rejection" | "uncaught_exception";

/** Every kind, in a fixed order (a metric reports each from 0). */
export const processFaultKinds: readonly ProcessFaultKind[] = ["unhandled_rejection", "uncaught_exception"];

const counts: Record<ProcessFaultKind, number> = { unhandled_rejection: 0, uncaught_exception: 0 };

/** Counts one fault of `kind` in this process. */
export function recordProcessFault(kind: ProcessFaultKind): void {
  counts[kind] += 1;
}

/** The faults counted in this process since it started, by kind. */
export function processFaultCount(kind: ProcessFaultKind): number {
  return counts[kind];
}

/**
 * Adds `process_faults_total{kind}` to `registry`, read from this process's tally at each scrape
 * (every kind from 0, so an alert on its increase sees the series before the first fault).
 */
export function registerProcessFaultMetric(registry: Registry): void {
  new Counter({
    name: "process_faults_total",
    help: "Faults no code path handled in this process, by kind: unhandled_rejection (logged, the server kept serving) or uncaught_exception (logged, the process exited 1 to be restarted).",
    labelNames: ["kind"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const kind of processFaultKinds) this.inc({ kind }, processFaultCount(kind));
    },
  });
}
