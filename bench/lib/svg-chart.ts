/**
 * A latency-against-throughput chart as a standalone SVG file (no dependencies): one colour per
 * series, p99 as a solid line with dots, p50 dashed, both axes logarithmic so that a FastAPI
 * service at 1,000 requests/s and a no-op RPC at 30,000 fit on one page. Points of a series are
 * joined in the order given (a concurrency sweep), so the "hockey stick" where latency climbs
 * without throughput rising is visible.
 */

/** One point of a series: throughput and latency percentiles. */
export interface ChartPoint {
  /** Requests (or rows) per second. */
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Shown on hover, e.g. "c=64". */
  readonly label: string;
}

/** A line of the chart, e.g. "mlpipe grpc". */
export interface ChartSeries {
  readonly name: string;
  /** What the x axis counts for this series: requests/s or rows/s. */
  readonly unit: "requests/s" | "rows/s";
  readonly points: readonly ChartPoint[];
}

const palette = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#7f7f7f",
  "#bcbd22",
  "#000000",
  "#aec7e8",
  "#98df8a",
  "#ff9896",
  "#c5b0d5",
  "#c49c94",
];

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c] ?? c);
}

function decades(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) out.push(10 ** e);
  return out;
}

function formatTick(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(v);
}

/** Renders the series (of one unit) as SVG text; `title` heads the chart. */
export function renderLatencyChart(title: string, series: readonly ChartSeries[]): string {
  const width = 960;
  const height = 560;
  const m = { left: 70, right: 260, top: 40, bottom: 50 };
  const pts = series.flatMap((s) => s.points).filter((p) => p.throughput > 0 && p.p50Ms > 0 && p.p99Ms > 0);
  if (pts.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="80"><text x="10" y="40">${escapeXml(title)}: no data</text></svg>\n`;
  }
  const xs = decades(Math.min(...pts.map((p) => p.throughput)), Math.max(...pts.map((p) => p.throughput)));
  const ys = decades(Math.min(...pts.map((p) => p.p50Ms)), Math.max(...pts.map((p) => p.p99Ms)));
  const [x0, x1, y0, y1] = [xs[0] ?? 1, xs[xs.length - 1] ?? 10, ys[0] ?? 1, ys[ys.length - 1] ?? 10];
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const sx = (v: number): number =>
    m.left + ((Math.log10(v) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0) || 1)) * plotW;
  const sy = (v: number): number =>
    m.top + plotH - ((Math.log10(v) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0) || 1)) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${m.left}" y="24" font-size="16">${escapeXml(title)}</text>`,
  ];
  for (const x of xs) {
    out.push(
      `<line x1="${sx(x)}" y1="${m.top}" x2="${sx(x)}" y2="${m.top + plotH}" stroke="#ddd"/>`,
      `<text x="${sx(x)}" y="${m.top + plotH + 16}" text-anchor="middle">${formatTick(x)}</text>`,
    );
  }
  for (const y of ys) {
    out.push(
      `<line x1="${m.left}" y1="${sy(y)}" x2="${m.left + plotW}" y2="${sy(y)}" stroke="#ddd"/>`,
      `<text x="${m.left - 6}" y="${sy(y) + 4}" text-anchor="end">${formatTick(y)}</text>`,
    );
  }
  const unit = series[0]?.unit ?? "requests/s";
  out.push(
    `<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${m.left + plotW / 2}" y="${height - 12}" text-anchor="middle">throughput (${unit}, log)</text>`,
    `<text transform="translate(18 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">latency ms (log): p99 solid, p50 dashed</text>`,
  );
  series.forEach((s, i) => {
    const colour = palette[i % palette.length] ?? "#000";
    const valid = s.points.filter((p) => p.throughput > 0 && p.p50Ms > 0 && p.p99Ms > 0);
    const path = (key: "p50Ms" | "p99Ms"): string =>
      valid.map((p, j) => `${j === 0 ? "M" : "L"}${sx(p.throughput).toFixed(1)},${sy(p[key]).toFixed(1)}`).join(" ");
    out.push(`<path d="${path("p99Ms")}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    out.push(`<path d="${path("p50Ms")}" fill="none" stroke="${colour}" stroke-width="1.5" stroke-dasharray="5,4"/>`);
    for (const p of valid) {
      out.push(
        `<circle cx="${sx(p.throughput).toFixed(1)}" cy="${sy(p.p99Ms).toFixed(1)}" r="3.5" fill="${colour}"><title>${escapeXml(
          `${s.name} ${p.label}: ${Math.round(p.throughput)} ${s.unit}, p50 ${p.p50Ms.toFixed(2)} ms, p99 ${p.p99Ms.toFixed(2)} ms`,
        )}</title></circle>`,
      );
    }
    const ly = m.top + 10 + i * 20;
    out.push(
      `<line x1="${width - m.right + 16}" y1="${ly}" x2="${width - m.right + 40}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${width - m.right + 46}" y="${ly + 4}">${escapeXml(s.name)}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
