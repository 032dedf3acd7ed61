/**
 * ECharts with only what the console draws (line charts and parallel coordinates, canvas), so the
 * lazily loaded chart chunk stays small. Imported with `import()` by the chart components: the
 * runs table and registry pages never load it.
 */
import { LineChart, ParallelChart } from "echarts/charts";
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  ParallelComponent,
  TooltipComponent,
  VisualMapComponent,
} from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([
  LineChart,
  ParallelChart,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  ParallelComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export { echarts };
