/**
 * Reports what each version answered (routing/version-stats.ts) to the registry every few seconds
 * (ReportTrafficStats, one call per model with requests), where a progressive rollout compares the
 * challenger with the champion. Serving never waits for it: a report that fails (registry down,
 * no permission) is dropped after one try, so what is kept stays bounded by one period's counts,
 * and the failure is logged once until reports succeed again.
 */
import { create } from "@bufbuild/protobuf";
import type { Logger } from "../../core/logger.js";
import { VersionTrafficStatsSchema } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { latencyBoundsMs, type VersionStatsBook } from "../routing/version-stats.js";
import type { RegistryRpc } from "./registry-client.js";

/** Options of {@link startTrafficStatsReporter}. */
export interface TrafficStatsReporterOptions {
  readonly rpc: RegistryRpc;
  readonly book: VersionStatsBook;
  /** The names of the models served (asked at each report: models may come and go). */
  readonly models: () => readonly string[];
  /** This replica's id in the reports (e.g. host name and process id). */
  readonly replicaId: string;
  /** Period of the reports, ms (TRAFFIC_REPORT_INTERVAL_MS). */
  readonly intervalMs: number;
  readonly logger: Logger;
}

/** A running reporter. */
export interface TrafficStatsReporter {
  /** Reports now what was counted since the last report (what the timer runs; tests call it). */
  report(): Promise<void>;
  /** Stops the timer and waits for a report in progress (what is not reported yet is dropped). */
  close(): Promise<void>;
}

/** Starts reporting every `intervalMs`. */
export function startTrafficStatsReporter(options: TrafficStatsReporterOptions): TrafficStatsReporter {
  const { rpc, book, logger, replicaId } = options;
  const abort = new AbortController();
  let failing = false;
  let current: Promise<void> | undefined;

  const reportModel = async (name: string): Promise<void> => {
    // Versions served from a local file have no registry number: nothing to compare them with.
    const versions = book.take(name).filter((v) => /^[1-9]\d{0,17}$/.test(v.version));
    if (versions.length === 0) return;
    await rpc.reportTrafficStats(
      {
        name,
        replicaId,
        versions: versions.map((v) =>
          create(VersionTrafficStatsSchema, {
            version: BigInt(v.version),
            requests: BigInt(v.requests),
            errors: BigInt(v.errors),
            latencyCounts: v.latencyCounts.map((c) => BigInt(c)),
            latencyBoundsMs: [...latencyBoundsMs],
          }),
        ),
      },
      { signal: abort.signal, timeoutMs: Math.max(options.intervalMs, 1000) },
    );
  };

  const reportAll = async (): Promise<void> => {
    for (const name of options.models()) {
      try {
        await reportModel(name);
        if (failing) logger.info({ model: name }, "traffic report: the registry takes reports again");
        failing = false;
      } catch (err) {
        if (abort.signal.aborted) return;
        if (!failing) logger.warn({ err, model: name }, "traffic report: could not report to the registry, dropped");
        failing = true;
      }
    }
  };

  const report = (): Promise<void> => {
    current ??= reportAll().finally(() => {
      current = undefined;
    });
    return current;
  };
  const timer = setInterval(() => void report(), options.intervalMs);
  timer.unref();
  return {
    report,
    async close() {
      clearInterval(timer);
      abort.abort();
      await current;
    },
  };
}
