/**
 * Params against a metric, one line per run across parallel axes (ECharts `parallel`): numeric
 * params on value axes, others on category axes, the metric last and as the line colour. Dragging
 * along an axis selects a range and fades the other runs.
 */
import type { EChartsCoreOption } from "echarts/core";
import { useMemo } from "react";
import { formatValue } from "../lib/format.js";
import type { ParallelData } from "../lib/run-comparison.js";
import { EChart } from "./echart.js";

/** The ECharts option of `data`, coloured by its last axis when that is the metric. */
export function parallelOption(data: ParallelData, metric: string | undefined): EChartsCoreOption {
  const metricIndex = metric === undefined ? -1 : data.axes.length - 1;
  const metricValues = data.lines.map((l) => l.values[metricIndex]).filter((v): v is number => typeof v === "number");
  return {
    animation: false,
    parallelAxis: data.axes.map((axis, dim) =>
      axis.type === "value"
        ? { dim, name: axis.name, type: "value", scale: true }
        : { dim, name: axis.name, type: "category", data: [...axis.categories] },
    ),
    parallel: {
      left: 48,
      right: 96,
      top: 48,
      bottom: 32,
      parallelAxisDefault: { nameGap: 16, nameTextStyle: { fontSize: 12 } },
    },
    visualMap:
      metricValues.length > 0
        ? {
            type: "continuous",
            dimension: metricIndex,
            min: Math.min(...metricValues),
            max: Math.max(...metricValues),
            right: 8,
            top: "middle",
            calculable: true,
            text: [metric ?? "", ""],
            inRange: { color: ["#0072B2", "#009E73", "#E69F00", "#D55E00"] },
          }
        : undefined,
    tooltip: { trigger: "item", formatter: (p: { name: string }) => p.name },
    series: [
      {
        type: "parallel",
        lineStyle: { width: 2, opacity: 0.85 },
        inactiveOpacity: 0.08,
        data: data.lines.map((l) => ({ name: l.name, value: l.values.map((v) => (v === null ? "-" : v)) })),
      },
    ],
  };
}

/** The parallel-coordinates figure, with the same data as a table for screen readers. */
export function ParallelCoordinates(props: { readonly data: ParallelData; readonly metric: string | undefined }) {
  const option = useMemo(() => parallelOption(props.data, props.metric), [props.data, props.metric]);
  const { axes, lines } = props.data;
  return (
    <figure className="parallel-chart">
      <EChart
        option={option}
        height={340}
        label={`Parallel coordinates of ${axes.map((a) => a.name).join(", ")} for ${lines.length} runs`}
      />
      <details>
        <summary>Data of the chart</summary>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Run</th>
                {axes.map((a) => (
                  <th scope="col" key={a.name}>
                    {a.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {lines.map((l) => (
                <tr key={l.runId}>
                  <th scope="row">{l.name}</th>
                  {l.values.map((v, i) => (
                    <td key={axes[i]?.name ?? i}>{v === null ? "—" : typeof v === "number" ? formatValue(v) : v}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
