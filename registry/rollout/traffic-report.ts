/**
 * ReportTrafficStats: an inference replica's counts per version of one model since its previous
 * report, validated and kept in the rollout controller's window when the model has a rollout
 * (`mlpipe.rollout` set); reports of other models are checked and answered but not kept, so the
 * registry's memory only holds what a rollout will read.
 */
import { commonErrors } from "../../core/errors/common-errors.js";
import { validateModelName } from "../../core/validation/names.js";
import { rolloutTag } from "../../core/validation/rollout-spec.js";
import type { ReportTrafficStatsRequest } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import type { RegistryStore } from "../registry-store.js";
import type { TrafficStatsWindow, VersionReport } from "./traffic-stats-window.js";

/** Most versions in one report. */
const maxVersions = 100;
/** Most latency bounds of one version's histogram. */
const maxBounds = 64;
/** Longest replica id, characters. */
const maxReplicaId = 200;

/** A count of the wire (uint64) as a number; INVALID_ARGUMENT above 2^53. */
function count(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw commonErrors.invalidArgument(field, "is too large");
  return Number(value);
}

/** The versions of a report, checked (INVALID_ARGUMENT naming the field otherwise). */
export function validateTrafficReport(req: ReportTrafficStatsRequest): {
  name: string;
  replicaId: string;
  versions: VersionReport[];
} {
  const name = validateModelName(req.name);
  if (req.replicaId === "" || req.replicaId.length > maxReplicaId || /\p{Cc}/u.test(req.replicaId)) {
    throw commonErrors.invalidArgument("replica_id", `must be 1 to ${maxReplicaId} characters, no control characters`);
  }
  if (req.versions.length > maxVersions) throw commonErrors.invalidArgument("versions", `at most ${maxVersions}`);
  const versions = req.versions.map((v, i): VersionReport => {
    const field = `versions[${i}]`;
    if (v.version <= 0n) throw commonErrors.invalidArgument(`${field}.version`, "must be a version number (1 or more)");
    const requests = count(v.requests, `${field}.requests`);
    const errors = count(v.errors, `${field}.errors`);
    if (errors > requests) throw commonErrors.invalidArgument(`${field}.errors`, "must not exceed requests");
    const bounds = v.latencyBoundsMs;
    if (bounds.length > maxBounds)
      throw commonErrors.invalidArgument(`${field}.latency_bounds_ms`, `at most ${maxBounds}`);
    if (bounds.some((b, j) => !Number.isFinite(b) || b <= 0 || (j > 0 && b <= (bounds[j - 1] ?? 0)))) {
      throw commonErrors.invalidArgument(`${field}.latency_bounds_ms`, "must be positive, finite and increasing");
    }
    if (v.latencyCounts.length !== bounds.length + 1) {
      throw commonErrors.invalidArgument(`${field}.latency_counts`, "must have one count more than latency_bounds_ms");
    }
    const counts = v.latencyCounts.map((c, j) => count(c, `${field}.latency_counts[${j}]`));
    if (counts.reduce((n, c) => n + c, 0) > requests - errors) {
      throw commonErrors.invalidArgument(`${field}.latency_counts`, "must not count more than the successful requests");
    }
    return { version: v.version, requests, errors, latency: { boundsMs: [...bounds], counts } };
  });
  return { name, replicaId: req.replicaId, versions };
}

/** Handles one report received at `atMs`: REGISTRY_MODEL_NOT_FOUND for an unknown model. */
export async function receiveTrafficReport(
  deps: { readonly store: RegistryStore; readonly stats: TrafficStatsWindow },
  req: ReportTrafficStatsRequest,
  atMs: number,
): Promise<void> {
  const report = validateTrafficReport(req);
  const model = await deps.store.getModel(report.name);
  if (model.tags[rolloutTag] === undefined || report.versions.length === 0) return;
  deps.stats.record(report.name, report.replicaId, report.versions, atMs);
}
