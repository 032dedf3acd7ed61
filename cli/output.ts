/** Writing a command's result: JSON with `--json`, else a table and notes for people. */
import type { CliIo } from "./cli-io.js";

/** Writes `value` as indented JSON on stdout; bigints become decimal strings (as proto JSON spells int64). */
export function writeJson(io: CliIo, value: unknown): void {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
  io.stdout.write(`${text}\n`);
}

/** A note for people on stderr (never mixed into results), e.g. "showing the first 100 runs". */
export function writeNote(io: CliIo, text: string): void {
  io.stderr.write(`${text}\n`);
}

/** The note after a listing cut at `limit`. */
export function truncatedNote(io: CliIo, truncated: boolean, limit: number, what: string): void {
  if (truncated) writeNote(io, `(showing the first ${limit} ${what}; raise --limit for more)`);
}
