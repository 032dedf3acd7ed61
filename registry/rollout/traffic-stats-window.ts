/**
 * The traffic reports of inference servers (ReportTrafficStats), kept in the registry process's
 * memory for the models under a rollout and merged over replicas: the rollout controller asks
 * what a version answered since its current step began, and drops what is older when a step ends.
 * Nothing here survives a registry restart, on purpose: a step whose reports were lost holds (too
 * few requests) and the next step counts afresh.
 */
import type { LatencyHistogram } from "./latency-quantile.js";

/** What one version answered over one report's period, as a replica reported it. */
export interface VersionReport {
  readonly version: bigint;
  readonly requests: number;
  readonly errors: number;
  readonly latency: LatencyHistogram;
}

/** What one version answered over a window, summed over the reports of every replica. */
export interface MergedVersionStats {
  readonly requests: number;
  readonly errors: number;
  /** Successful requests' latencies (the bounds of the newest report; see {@link TrafficStatsWindow.merged}). */
  readonly latency: LatencyHistogram;
  /** Distinct replicas that reported the version in the window. */
  readonly replicas: number;
}

/** The reports of the models under a rollout. */
export interface TrafficStatsWindow {
  /** Keeps a replica's report of `model`'s versions received at `atMs`. */
  record(model: string, replicaId: string, versions: readonly VersionReport[], atMs: number): void;
  /**
   * What `version` of `model` answered in the reports received at or after `sinceMs`. Reports
   * whose latency bounds differ from the newest one's (a replica of another release) count in
   * requests and errors but not in the latency histogram.
   */
  merged(model: string, version: bigint, sinceMs: number): MergedVersionStats;
  /** Drops the reports of `model` received before `beforeMs` (a new step begins). */
  dropBefore(model: string, beforeMs: number): void;
  /** Drops every report of `model` (its rollout ended). */
  forget(model: string): void;
}

/** Options of {@link createTrafficStatsWindow}. */
export interface TrafficStatsWindowOptions {
  /** Reports kept per model, the oldest dropped first (default 20 000: 400 replicas x 50 reports per step). */
  readonly maxReportsPerModel?: number;
}

interface Entry {
  readonly atMs: number;
  readonly replicaId: string;
  readonly report: VersionReport;
}

/** Creates an empty window. */
export function createTrafficStatsWindow(options: TrafficStatsWindowOptions = {}): TrafficStatsWindow {
  const maxReports = options.maxReportsPerModel ?? 20_000;
  const byModel = new Map<string, Entry[]>();
  return {
    record(model, replicaId, versions, atMs) {
      let entries = byModel.get(model);
      if (entries === undefined) {
        entries = [];
        byModel.set(model, entries);
      }
      for (const report of versions) entries.push({ atMs, replicaId, report });
      if (entries.length > maxReports) entries.splice(0, entries.length - maxReports);
    },
    merged(model, version, sinceMs) {
      const entries = (byModel.get(model) ?? []).filter((e) => e.report.version === version && e.atMs >= sinceMs);
      const newest = entries[entries.length - 1]?.report.latency.boundsMs ?? [];
      const counts = new Array<number>(newest.length + 1).fill(0);
      let requests = 0;
      let errors = 0;
      const replicas = new Set<string>();
      for (const { replicaId, report } of entries) {
        requests += report.requests;
        errors += report.errors;
        replicas.add(replicaId);
        const { boundsMs } = report.latency;
        if (boundsMs.length !== newest.length || boundsMs.some((b, i) => b !== newest[i])) continue;
        for (const [i, c] of report.latency.counts.entries()) counts[i] = (counts[i] ?? 0) + c;
      }
      return { requests, errors, latency: { boundsMs: newest, counts }, replicas: replicas.size };
    },
    dropBefore(model, beforeMs) {
      const entries = byModel.get(model);
      if (entries === undefined) return;
      const kept = entries.filter((e) => e.atMs >= beforeMs);
      if (kept.length === 0) byModel.delete(model);
      else byModel.set(model, kept);
    },
    forget(model) {
      byModel.delete(model);
    },
  };
}
