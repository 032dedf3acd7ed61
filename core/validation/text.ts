import { commonErrors } from "../errors/common-errors.js";

/**
 * The building blocks of every field rule: lengths in Unicode code points (as MLflow, in Python,
 * counts them) and the characters PostgreSQL text cannot hold or a log line should not carry.
 */

/**
 * C0 controls (NUL, newlines and tabs included), DEL, C1 controls, and the Unicode bidirectional
 * formatting characters (LRM, RLM, ALM, the embeddings, overrides and isolates of UAX #9): names
 * shown in tables, logs and the console must read as they are stored, on one line, and a
 * right-to-left override could make `evil\u202egpj.exe` display as `evilexe.jpg`.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
const controlCharacters = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/**
 * True when `value` holds a control character: C0 (NUL and newlines included), DEL, C1, or a
 * bidirectional formatting character (see `controlCharacters`).
 */
export function hasControlCharacters(value: string): boolean {
  return controlCharacters.test(value);
}

/** True when `value` has more than `limit` code points; counted only when its UTF-16 length could exceed it. */
function exceedsLength(value: string, limit: number): boolean {
  if (value.length <= limit) return false;
  let n = 0;
  for (const _ of value) if (++n > limit) return true;
  return false;
}

/**
 * Free text: at least `min` and at most `max` characters (code points), and no NUL (PostgreSQL
 * text cannot store it, so it would fail as an internal error later). INVALID_ARGUMENT naming
 * `field` otherwise; returns the value.
 */
export function validateText(value: string, field: string, min: number, max: number): string {
  if (value.length < min)
    throw commonErrors.invalidArgument(field, min === 1 ? "must not be empty" : `must be at least ${min} characters`);
  if (exceedsLength(value, max)) throw commonErrors.invalidArgument(field, `must be at most ${max} characters`);
  if (value.includes("\u0000")) throw commonErrors.invalidArgument(field, "must not contain NUL characters");
  return value;
}
