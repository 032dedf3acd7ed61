/** How values read in human output: times, sizes, metric values, long strings. */

/** A time in ms since the epoch as local `YYYY-MM-DD HH:MM:SS`; "-" for 0 (unset). */
export function formatTime(ms: bigint | number): string {
  const n = Number(ms);
  if (n === 0) return "-";
  const d = new Date(n);
  const pad = (v: number): string => String(v).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A size in bytes with a binary unit: "512 B", "1.5 KiB", "12.0 MiB". */
export function formatBytes(bytes: bigint | number): string {
  let n = Number(bytes);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${n.toFixed(1)} ${units[unit]}`;
}

/** A metric value: up to 6 significant digits, NaN and ±Infinity spelled out. */
export function formatMetric(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  return String(Number(value.toPrecision(6)));
}

/** `text` cut to `max` characters, the cut marked with "…". */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join("")}…`;
}
