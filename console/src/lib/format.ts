/** How the console writes times, durations, metric values and run statuses. */
import { RunStatus } from "../../../gen/mlpipe/tracking/v1/tracking_pb.js";

/** `2026-11-28 06:16:07` in the browser's time zone; "—" for 0 (unset). */
export function formatTime(ms: bigint | number): string {
  const n = Number(ms);
  if (n === 0) return "—";
  const d = new Date(n);
  const pad = (v: number) => String(v).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A duration in ms as `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${String(Math.floor((ms % 60_000) / 1000)).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** A metric value with up to 6 significant digits; NaN and infinities spelled out. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(6)));
}

/** "RUNNING", "FINISHED", ... as MLflow writes run statuses. */
export function runStatusName(status: RunStatus): string {
  const name = RunStatus[status];
  return name === undefined || status === RunStatus.UNSPECIFIED ? "—" : name;
}
