import * as hdr from "hdr-histogram-js";

/** Latency percentiles of one measurement, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/**
 * Records latencies in an HDR histogram (microsecond resolution, 1 µs to 60 s, 3 significant
 * digits), so percentiles stay exact whatever the sample count.
 */
export interface LatencyRecorder {
  /** Records one latency in milliseconds (fractions kept to the microsecond). */
  record(ms: number): void;
  summary(): LatencySummary;
}

/** Creates an empty {@link LatencyRecorder}. */
export function createLatencyRecorder(): LatencyRecorder {
  const h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  return {
    record(ms: number) {
      h.recordValue(Math.max(1, Math.round(ms * 1000)));
    },
    summary() {
      const us = (p: number): number => h.getValueAtPercentile(p) / 1000;
      return {
        count: h.totalCount,
        p50: us(50),
        p90: us(90),
        p95: us(95),
        p99: us(99),
        p999: us(99.9),
        max: h.maxValue / 1000,
        mean: h.mean / 1000,
      };
    },
  };
}
