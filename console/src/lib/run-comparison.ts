/**
 * What the Compare page derives from 2-20 runs: the params whose values differ between them, and
 * the axes of the parallel-coordinates view (a numeric axis when every run's value is a finite
 * number, a category axis otherwise).
 */
import type { Run } from "../../../gen/mlpipe/tracking/v1/tracking_pb.js";

/** Keys of params that differ between the runs (absent in some counts as different), sorted. */
export function differingParams(runs: readonly Run[]): string[] {
  const keys = new Set(runs.flatMap((r) => Object.keys(r.data?.params ?? {})));
  return [...keys]
    .filter((k) => new Set(runs.map((r) => r.data?.params[k])).size > 1)
    .sort((a, b) => a.localeCompare(b));
}

/** Every param key of the runs, sorted. */
export function allParams(runs: readonly Run[]): string[] {
  return [...new Set(runs.flatMap((r) => Object.keys(r.data?.params ?? {})))].sort((a, b) => a.localeCompare(b));
}

/** One axis of the parallel-coordinates view. */
export type ParallelAxis =
  | { readonly name: string; readonly type: "value" }
  | { readonly name: string; readonly type: "category"; readonly categories: readonly string[] };

/** The axes and one line (a value per axis; null when the run lacks it) per run. */
export interface ParallelData {
  readonly axes: readonly ParallelAxis[];
  readonly lines: readonly {
    readonly runId: string;
    readonly name: string;
    readonly values: (number | string | null)[];
  }[];
}

/** Axes for `params` then the latest value of `metric`, and a line per run. */
export function parallelData(
  runs: readonly Run[],
  params: readonly string[],
  metric: string | undefined,
): ParallelData {
  const axes: ParallelAxis[] = params.map((key) => {
    const values = runs.map((r) => r.data?.params[key]).filter((v): v is string => v !== undefined);
    const numeric = values.length > 0 && values.every((v) => v.trim() !== "" && Number.isFinite(Number(v)));
    return numeric
      ? { name: key, type: "value" }
      : { name: key, type: "category", categories: [...new Set(values)].sort((a, b) => a.localeCompare(b)) };
  });
  if (metric !== undefined) axes.push({ name: metric, type: "value" });
  const lines = runs.map((r) => ({
    runId: r.info?.runId ?? "",
    name: r.info?.runName ?? "",
    values: axes.map((axis, i): number | string | null => {
      if (metric !== undefined && i === axes.length - 1) {
        const v = r.data?.metrics.find((m) => m.key === metric)?.value;
        return v === undefined || !Number.isFinite(v) ? null : v;
      }
      const raw = r.data?.params[axis.name];
      if (raw === undefined) return null;
      return axis.type === "value" ? Number(raw) : raw;
    }),
  }));
  return { axes, lines };
}
