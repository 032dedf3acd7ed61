/**
 * One ECharts canvas: loads ECharts on first use, applies `option` whenever it changes (replacing
 * the previous one), follows the container's size, and disposes of the chart on unmount. The
 * container is an image labelled by the caller (ECharts' own aria option is left off: it would
 * replace that label with a generic one); the callers also offer the data as a table.
 */
import type { EChartsCoreOption, EChartsType } from "echarts/core";
import { useEffect, useRef, useState } from "react";
import { ErrorNotice } from "./error-notice.js";

/** Props of {@link EChart}. */
export interface EChartProps {
  readonly option: EChartsCoreOption;
  /** What the chart shows, in words (the canvas's accessible name). */
  readonly label: string;
  /** Height in px (default 280). */
  readonly height?: number;
}

/** A chart drawn by ECharts on a canvas. */
export function EChart(props: EChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<EChartsType | undefined>(undefined);
  const [failed, setFailed] = useState<unknown>(undefined);
  const [ready, setReady] = useState(false);

  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | undefined;
    import("./echarts-setup.js").then(
      ({ echarts }) => {
        const element = container.current;
        if (disposed || element === null) return;
        chart.current = echarts.init(element, undefined, { renderer: "canvas" });
        observer = new ResizeObserver(() => chart.current?.resize());
        observer.observe(element);
        setReady(true);
      },
      (err: unknown) => setFailed(err),
    );
    return () => {
      disposed = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = undefined;
    };
  }, []);

  useEffect(() => {
    if (ready) chart.current?.setOption(props.option, { notMerge: true });
  }, [ready, props.option]);

  if (failed !== undefined) return <ErrorNotice error={failed} title="The chart could not be loaded." />;
  return (
    <div
      ref={container}
      className="chart"
      role="img"
      aria-label={props.label}
      data-ready={ready ? "true" : "false"}
      style={{ height: props.height ?? 280 }}
    />
  );
}
