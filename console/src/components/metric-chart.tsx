/**
 * Metric histories as line charts: step, wall time or time since the first point on the x axis,
 * linear or log y axis, TensorBoard-style smoothing (the raw line stays visible, fainter), zoom by
 * mouse wheel or the slider, and a data table for keyboard and screen-reader users.
 */
import type { EChartsCoreOption } from "echarts/core";
import { useId, useMemo, useState } from "react";
import type { MetricPoint } from "../api/metric-history.js";
import { smoothSeries } from "../lib/ema-smoothing.js";
import { formatTime, formatValue } from "../lib/format.js";
import { EChart } from "./echart.js";

/** How histories are drawn; shared by every chart of a page. */
export interface ChartSettings {
  readonly x: "step" | "time" | "relative";
  readonly log: boolean;
  /** 0 (none) to 0.99. */
  readonly smoothing: number;
}

/** The settings charts start with. */
export const defaultChartSettings: ChartSettings = { x: "step", log: false, smoothing: 0 };

/** One line: a run's history of one metric. */
export interface ChartSeries {
  readonly name: string;
  readonly points: readonly MetricPoint[];
}

/** Controls of {@link ChartSettings}. */
export function ChartControls(props: {
  readonly settings: ChartSettings;
  readonly onChange: (s: ChartSettings) => void;
}) {
  const { settings, onChange } = props;
  const id = useId();
  return (
    <fieldset className="chart-controls">
      <legend>Chart settings</legend>
      <div role="radiogroup" aria-label="X axis" className="inline">
        <span aria-hidden="true">X axis:</span>
        {(["step", "time", "relative"] as const).map((x) => (
          <label key={x}>
            <input
              type="radio"
              name={`${id}-x`}
              checked={settings.x === x}
              onChange={() => onChange({ ...settings, x })}
            />
            {x === "step" ? "Step" : x === "time" ? "Wall time" : "Relative time"}
          </label>
        ))}
      </div>
      <label className="inline">
        <input
          type="checkbox"
          checked={settings.log}
          onChange={(e) => onChange({ ...settings, log: e.target.checked })}
        />
        Log scale
      </label>
      <label className="inline" htmlFor={`${id}-smooth`}>
        Smoothing
        <input
          id={`${id}-smooth`}
          type="range"
          min={0}
          max={0.99}
          step={0.01}
          value={settings.smoothing}
          onChange={(e) => onChange({ ...settings, smoothing: Number(e.target.value) })}
        />
        <output htmlFor={`${id}-smooth`}>{settings.smoothing.toFixed(2)}</output>
      </label>
    </fieldset>
  );
}

/** Colour-blind-safe palette (Okabe-Ito, then Tableau) with enough contrast on white. */
export const seriesColors = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#4E79A7",
  "#F28E2B",
  "#59A14F",
  "#B07AA1",
];

function xOf(p: MetricPoint, x: ChartSettings["x"], t0: number): number {
  return x === "step" ? p.step : x === "time" ? p.time : (p.time - t0) / 1000;
}

/** The ECharts option for `series` drawn with `settings`. */
export function metricChartOption(series: readonly ChartSeries[], settings: ChartSettings): EChartsCoreOption {
  const lines: object[] = [];
  series.forEach((s, i) => {
    const color = seriesColors[i % seriesColors.length];
    const t0 = s.points[0]?.time ?? 0;
    const usable = s.points.filter((p) => Number.isFinite(p.value) && (!settings.log || p.value > 0));
    const xs = usable.map((p) => xOf(p, settings.x, t0));
    const raw = usable.map((p) => p.value);
    const large = usable.length > 2_000;
    const line = (values: readonly number[], style: object) => ({
      type: "line",
      name: s.name,
      data: xs.map((x, j) => [x, values[j]]),
      showSymbol: usable.length <= 50,
      animation: !large,
      sampling: large ? "lttb" : undefined,
      itemStyle: { color },
      ...style,
    });
    if (settings.smoothing > 0) {
      // The raw line stays, faint and silent, under the smoothed one (as TensorBoard draws it).
      lines.push(line(raw, { lineStyle: { color, opacity: 0.25 }, silent: true, tooltip: { show: false } }));
      lines.push(line(smoothSeries(raw, settings.smoothing), { lineStyle: { color, width: 2 } }));
    } else {
      lines.push(line(raw, { lineStyle: { color, width: 2 } }));
    }
  });
  return {
    animationDuration: 200,
    grid: { left: 56, right: 40, top: series.length > 1 ? 40 : 16, bottom: 64 },
    legend: series.length > 1 ? { type: "scroll", top: 0 } : undefined,
    tooltip: { trigger: "axis", valueFormatter: (v: unknown) => (typeof v === "number" ? formatValue(v) : String(v)) },
    xAxis: {
      type: settings.x === "time" ? "time" : "value",
      name: settings.x === "step" ? "step" : settings.x === "time" ? "" : "seconds",
      nameLocation: "end",
      scale: true,
    },
    yAxis: { type: settings.log ? "log" : "value", scale: !settings.log },
    dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }],
    series: lines,
  };
}

/** Props of {@link MetricChart}. */
export interface MetricChartProps {
  /** The metric key. */
  readonly title: string;
  readonly series: readonly ChartSeries[];
  readonly settings: ChartSettings;
}

/** A figure with the chart of one metric and its data as a table on request. */
export function MetricChart(props: MetricChartProps) {
  const { title, series, settings } = props;
  const [table, setTable] = useState(false);
  const option = useMemo(() => metricChartOption(series, settings), [series, settings]);
  const count = series.reduce((n, s) => n + s.points.length, 0);
  const hidden = settings.log ? series.reduce((n, s) => n + s.points.filter((p) => !(p.value > 0)).length, 0) : 0;
  const summary = series
    .map((s) => {
      const last = s.points.at(-1);
      return last === undefined
        ? `${s.name}: no points`
        : `${s.name}: ${s.points.length} points, last ${formatValue(last.value)} at step ${last.step}`;
    })
    .join("; ");
  return (
    <figure className="metric-chart" aria-label={`${title} chart`}>
      <figcaption>
        <strong>{title}</strong> <span className="muted">{count === 1 ? "1 point" : `${count} points`}</span>
        {hidden > 0 ? <span className="muted"> · {hidden} values ≤ 0 not drawn on the log scale</span> : null}
        <button type="button" className="link-button" aria-expanded={table} onClick={() => setTable(!table)}>
          {table ? "Hide data" : "Show data"}
        </button>
      </figcaption>
      <EChart option={option} label={`Line chart of ${title}. ${summary}`} />
      {table ? <HistoryTable series={series} /> : null}
    </figure>
  );
}

/** The last 200 points of each series, as a table. */
function HistoryTable(props: { readonly series: readonly ChartSeries[] }) {
  const rows = props.series.flatMap((s) => s.points.slice(-200).map((p) => ({ name: s.name, p })));
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">Metric values (last 200 points of each run)</caption>
        <thead>
          <tr>
            {props.series.length > 1 ? <th scope="col">Run</th> : null}
            <th scope="col">Step</th>
            <th scope="col">Time</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ name, p }, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: points have no identity; the list is rebuilt whole
            <tr key={i}>
              {props.series.length > 1 ? <td>{name}</td> : null}
              <td>{p.step}</td>
              <td>{formatTime(p.time)}</td>
              <td className="num">{formatValue(p.value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
