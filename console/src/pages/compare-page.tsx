/**
 * 2 to 20 runs side by side (`/compare?runs=a,b,c`): one metric's histories overlaid, params
 * against a metric as parallel coordinates, and a table of the params that differ (all on request)
 * with the latest metric values.
 */
import { useQueries } from "@tanstack/react-query";
import { useId, useMemo, useState } from "react";
import { Link, useSearchParams } from "wouter";
import type { Run } from "../../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { useClients } from "../api/console-clients.js";
import { fetchMetricHistory, type MetricPoint } from "../api/metric-history.js";
import { ErrorNotice } from "../components/error-notice.js";
import { ChartControls, type ChartSettings, defaultChartSettings, MetricChart } from "../components/metric-chart.js";
import { usePageTitle } from "../components/page-title.js";
import { ParallelCoordinates } from "../components/parallel-coordinates.js";
import { formatValue, runStatusName } from "../lib/format.js";
import { allParams, differingParams, parallelData } from "../lib/run-comparison.js";
import { maxCompared } from "./runs-page.js";

/** The compare page. */
export function ComparePage() {
  usePageTitle("Compare runs");
  const { tracking } = useClients();
  const [params, setParams] = useSearchParams();
  const runIds = [...new Set((params.get("runs") ?? "").split(",").filter((id) => id !== ""))];
  const queries = useQueries({
    queries: runIds.map((runId) => ({
      queryKey: ["run", runId],
      queryFn: ({ signal }: { signal: AbortSignal }) => tracking.getRun({ runId }, { signal }),
    })),
  });
  const runs = queries.map((q) => q.data?.run).filter((r): r is Run => r !== undefined);
  const failed = queries.find((q) => q.error)?.error;
  const metricKeys = useMemo(
    () => [...new Set(runs.flatMap((r) => r.data?.metrics.map((m) => m.key) ?? []))].sort((a, b) => a.localeCompare(b)),
    [runs],
  );
  const chosenMetric = params.get("metric");
  const metric =
    chosenMetric !== null && metricKeys.includes(chosenMetric)
      ? chosenMetric
      : metricKeys.includes("loss")
        ? "loss"
        : metricKeys[0];
  const setMetric = (m: string) =>
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      next.set("metric", m);
      return next;
    });

  if (runIds.length < 2 || runIds.length > maxCompared) {
    return (
      <section>
        <h1>Compare runs</h1>
        <p role="alert">
          Compare takes 2 to {maxCompared} runs; {runIds.length} given. Select them in a{" "}
          <Link href="/experiments">runs table</Link>.
        </p>
      </section>
    );
  }
  const loading = runs.length < runIds.length && failed === undefined;
  return (
    <article>
      <h1>Compare {runIds.length} runs</h1>
      {failed ? <ErrorNotice error={failed} /> : null}
      {loading ? <p aria-live="polite">Loading runs…</p> : null}
      {loading ? null : (
        <>
          <RunList runs={runs} />
          <section aria-labelledby="compare-chart-heading">
            <h2 id="compare-chart-heading">Metric history</h2>
            <MetricPicker keys={metricKeys} value={metric} onChange={setMetric} label="Metric" />
            {metric === undefined ? <p>These runs logged no metric.</p> : <CompareChart runs={runs} metric={metric} />}
          </section>
          <section aria-labelledby="parallel-heading">
            <h2 id="parallel-heading">Params against {metric ?? "a metric"}</h2>
            <ParallelSection runs={runs} metric={metric} />
          </section>
          <section aria-labelledby="diff-heading">
            <h2 id="diff-heading">Params and metrics</h2>
            <DiffTable runs={runs} metricKeys={metricKeys} />
          </section>
        </>
      )}
    </article>
  );
}

function RunList(props: { readonly runs: readonly Run[] }) {
  return (
    <ul className="run-list">
      {props.runs.map((r) => (
        <li key={r.info?.runId}>
          <Link href={`/runs/${encodeURIComponent(r.info?.runId ?? "")}`}>{r.info?.runName || r.info?.runId}</Link>{" "}
          <span className="muted">{runStatusName(r.info?.status ?? 0)}</span>
        </li>
      ))}
    </ul>
  );
}

function MetricPicker(props: {
  readonly keys: readonly string[];
  readonly value: string | undefined;
  readonly onChange: (m: string) => void;
  readonly label: string;
}) {
  const id = useId();
  return (
    <div className="toolbar">
      <label htmlFor={id}>{props.label}</label>
      <select id={id} value={props.value ?? ""} onChange={(e) => props.onChange(e.target.value)}>
        {props.keys.map((k) => (
          <option key={k} value={k}>
            {k}
          </option>
        ))}
      </select>
    </div>
  );
}

function CompareChart(props: { readonly runs: readonly Run[]; readonly metric: string }) {
  const { tracking } = useClients();
  const [settings, setSettings] = useState<ChartSettings>(defaultChartSettings);
  const histories = useQueries({
    queries: props.runs.map((r) => ({
      queryKey: ["history", r.info?.runId ?? "", props.metric],
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        fetchMetricHistory(tracking, r.info?.runId ?? "", props.metric, signal),
    })),
    combine: combineHistories,
  });
  const { failed, points } = histories;
  const ready = points.every((p) => p !== undefined);
  const series = useMemo(
    () => props.runs.map((r, i) => ({ name: r.info?.runName || (r.info?.runId ?? ""), points: points[i] ?? [] })),
    [props.runs, points],
  );
  if (failed) return <ErrorNotice error={failed} />;
  if (!ready) return <p aria-live="polite">Loading histories…</p>;
  return (
    <>
      <ChartControls settings={settings} onChange={setSettings} />
      <MetricChart title={props.metric} series={series} settings={settings} />
    </>
  );
}

/** The histories of the compared runs, structurally shared by TanStack Query while none changes. */
function combineHistories(results: readonly { readonly data?: MetricPoint[] | undefined; readonly error: unknown }[]) {
  return { failed: results.find((r) => r.error)?.error, points: results.map((r) => r.data) };
}

function ParallelSection(props: { readonly runs: readonly Run[]; readonly metric: string | undefined }) {
  const differing = differingParams(props.runs);
  const keys = differing.length > 0 ? differing : allParams(props.runs);
  const data = useMemo(() => parallelData(props.runs, keys, props.metric), [props.runs, keys, props.metric]);
  if (keys.length === 0 && props.metric === undefined) return <p>No params or metrics to compare.</p>;
  return (
    <>
      <p className="hint">
        {differing.length > 0 ? "Params that differ between the runs" : "No param differs; all params shown"}, then{" "}
        {props.metric ?? "no metric"}; drag along an axis to select a range.
      </p>
      <ParallelCoordinates data={data} metric={props.metric} />
    </>
  );
}

function DiffTable(props: { readonly runs: readonly Run[]; readonly metricKeys: readonly string[] }) {
  const [all, setAll] = useState(false);
  const differing = differingParams(props.runs);
  const keys = all ? allParams(props.runs) : differing;
  return (
    <>
      <label className="check">
        <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} />
        Show params that are the same in every run
      </label>
      <div className="table-wrap">
        <table className="diff-table">
          <caption className="visually-hidden">
            Params {all ? "" : "that differ "}and latest metrics of the compared runs
          </caption>
          <thead>
            <tr>
              <th scope="col">Key</th>
              {props.runs.map((r) => (
                <th scope="col" key={r.info?.runId}>
                  {r.info?.runName || r.info?.runId}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {keys.length === 0 ? (
              <tr>
                <td colSpan={props.runs.length + 1}>No param differs between these runs.</td>
              </tr>
            ) : null}
            {keys.map((k) => (
              <tr key={`p-${k}`} className={differing.includes(k) ? "differs" : undefined}>
                <th scope="row">
                  <span className="kind kind-params">param</span>
                  {k}
                </th>
                {props.runs.map((r) => (
                  <td key={r.info?.runId}>{r.data?.params[k] ?? "—"}</td>
                ))}
              </tr>
            ))}
            {props.metricKeys.map((k) => (
              <tr key={`m-${k}`}>
                <th scope="row">
                  <span className="kind kind-metrics">metric</span>
                  {k}
                </th>
                {props.runs.map((r) => {
                  const v = r.data?.metrics.find((m) => m.key === k)?.value;
                  return (
                    <td key={r.info?.runId} className="num">
                      {v === undefined ? "—" : formatValue(v)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
