/** A metric's full history, read page by page (GetMetricHistory pages hold up to 50,000 points). */
import type { Client } from "@connectrpc/connect";
import type { TrackingService } from "../../../gen/mlpipe/tracking/v1/tracking_pb.js";

/** One point, with numbers ready to plot (step and time as numbers, time in ms). */
export interface MetricPoint {
  readonly step: number;
  readonly time: number;
  readonly value: number;
}

/** Most points read of one metric (20 pages): beyond it the chart shows the first million. */
export const maxHistoryPoints = 1_000_000;

/** Every point of `key` of run `runId`, ordered by step then time. */
export async function fetchMetricHistory(
  tracking: Client<typeof TrackingService>,
  runId: string,
  key: string,
  signal: AbortSignal,
): Promise<MetricPoint[]> {
  const points: MetricPoint[] = [];
  let pageToken = "";
  do {
    const page = await tracking.getMetricHistory({ runId, metricKey: key, maxResults: 50_000, pageToken }, { signal });
    for (const m of page.metrics) points.push({ step: Number(m.step), time: Number(m.timestamp), value: m.value });
    pageToken = page.nextPageToken;
  } while (pageToken !== "" && points.length < maxHistoryPoints);
  return points;
}
