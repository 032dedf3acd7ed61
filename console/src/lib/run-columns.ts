/**
 * The runs table's optional columns: a run's metrics (latest value), params and tags, named as the
 * filter language names them (`metrics.loss`), and the order_by clause that sorts on one. Keys are
 * always backtick-quoted in clauses: keys may hold spaces, `-` or `/` (MLflow's key rule), and the
 * server accepts a quoted key anywhere a bare one goes.
 */
import type { Run } from "../../../gen/mlpipe/tracking/v1/tracking_pb.js";

/** The three kinds of keyed columns. */
export type ColumnKind = "metrics" | "params" | "tags";

/** A keyed column, e.g. `{ kind: "metrics", key: "val loss" }`. */
export interface RunColumn {
  readonly kind: ColumnKind;
  readonly key: string;
}

/** Fixed columns that sort on an attribute. */
export const attributeSorts = { name: "run_name", status: "status", started: "start_time" } as const;

/** `metrics.loss` — the id used in URLs and headers. */
export function columnId(c: RunColumn): string {
  return `${c.kind}.${c.key}`;
}

/** Parses a {@link columnId}; undefined when it names no keyed column. */
export function parseColumnId(id: string): RunColumn | undefined {
  const dot = id.indexOf(".");
  const kind = id.slice(0, dot);
  const key = id.slice(dot + 1);
  if (dot < 1 || key === "" || (kind !== "metrics" && kind !== "params" && kind !== "tags")) return undefined;
  return { kind, key };
}

/** The order_by clause of a column: ``metrics.`val loss` DESC``. */
export function orderByClause(column: RunColumn | string, descending: boolean): string {
  const field = typeof column === "string" ? column : `${column.kind}.\`${column.key}\``;
  return `${field} ${descending ? "DESC" : "ASC"}`;
}

/** Every metric, param and tag key of `runs`, each sorted; tags starting with `mlflow.` or `mlpipe.` are left out. */
export function collectKeys(runs: readonly Run[]): Record<ColumnKind, string[]> {
  const metrics = new Set<string>();
  const params = new Set<string>();
  const tags = new Set<string>();
  for (const run of runs) {
    for (const m of run.data?.metrics ?? []) metrics.add(m.key);
    for (const k of Object.keys(run.data?.params ?? {})) params.add(k);
    for (const k of Object.keys(run.data?.tags ?? {})) if (!/^(mlflow|mlpipe)\./.test(k)) tags.add(k);
  }
  const sorted = (s: Set<string>) => [...s].sort((a, b) => a.localeCompare(b));
  return { metrics: sorted(metrics), params: sorted(params), tags: sorted(tags) };
}

/** Columns shown before the user chooses: up to `perKind` metrics and params of the first page. */
export function defaultColumns(keys: Record<ColumnKind, string[]>, perKind = 6): RunColumn[] {
  return [
    ...keys.metrics.slice(0, perKind).map((key) => ({ kind: "metrics" as const, key })),
    ...keys.params.slice(0, perKind).map((key) => ({ kind: "params" as const, key })),
  ];
}

/** The value of a column for a run: the latest metric value, the param or the tag; undefined when absent. */
export function cellValue(run: Run, column: RunColumn): number | string | undefined {
  const data = run.data;
  if (data === undefined) return undefined;
  if (column.kind === "metrics") return data.metrics.find((m) => m.key === column.key)?.value;
  return (column.kind === "params" ? data.params : data.tags)[column.key];
}
