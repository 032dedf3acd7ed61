/**
 * A byte progress bar for transfers, drawn on stderr only when it is a terminal (so logs, pipes
 * and CI output stay clean): `label [#########.........]  45%  12.0 MiB / 26.5 MiB`, redrawn at
 * most every 100 ms and once at the end.
 */
import type { CliOutput } from "./cli-io.js";
import { formatBytes } from "./display-values.js";

/** A transfer's progress bar; every method is a no-op when the stream is not a terminal. */
export interface ProgressBar {
  /** Sets how many bytes are done (and, once known, the total). */
  update(done: number, total?: number): void;
  /** Draws the final state and ends the line. */
  finish(): void;
  /** Clears the line (the transfer failed; the error follows). */
  abandon(): void;
}

/** Options of {@link createProgressBar}. */
export interface ProgressBarOptions {
  readonly stream: CliOutput;
  /** Shown before the bar, e.g. "uploading model.onnx". */
  readonly label: string;
  /** Total bytes, when known upfront. */
  readonly total?: number | undefined;
  /** Clock in ms, for tests; default performance.now. */
  readonly now?: () => number;
}

const redrawEveryMs = 100;
const barWidth = 24;

/** Creates a bar; nothing is drawn until the first update. */
export function createProgressBar(options: ProgressBarOptions): ProgressBar {
  const { stream, label } = options;
  if (!stream.isTTY) return { update() {}, finish() {}, abandon() {} };
  const now = options.now ?? (() => performance.now());
  let total = options.total;
  let done = 0;
  let drawnAt = Number.NEGATIVE_INFINITY;
  let drawn = false;
  const draw = (): void => {
    const fraction = total === undefined || total === 0 ? (done > 0 ? 1 : 0) : Math.min(1, done / total);
    const filled = Math.round(fraction * barWidth);
    const bar = `[${"#".repeat(filled)}${".".repeat(barWidth - filled)}]`;
    const amount = total === undefined ? formatBytes(done) : `${formatBytes(done)} / ${formatBytes(total)}`;
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    stream.write(`\r\x1b[2K${label} ${bar} ${percent}  ${amount}`);
    drawn = true;
    drawnAt = now();
  };
  return {
    update(value, newTotal) {
      done = value;
      if (newTotal !== undefined) total = newTotal;
      if (now() - drawnAt >= redrawEveryMs) draw();
    },
    finish() {
      draw();
      stream.write("\n");
    },
    abandon() {
      if (drawn) stream.write("\r\x1b[2K");
    },
  };
}
