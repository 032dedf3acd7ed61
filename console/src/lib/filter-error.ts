/**
 * Where a search filter went wrong, read from the server's INVALID_ARGUMENT message
 * (`invalid filter at position 17: expected a value`), so the console can point at the character.
 */

/** The position (1-based column, as the server counts) and the reason. */
export interface FilterErrorLocation {
  readonly position: number;
  readonly reason: string;
}

/** The location named by a TRACKING_INVALID_FILTER message; undefined for any other message. */
export function filterErrorLocation(message: string): FilterErrorLocation | undefined {
  const m = /invalid filter at position (\d+): (.*)$/s.exec(message);
  if (m === null) return undefined;
  return { position: Number(m[1]), reason: m[2] ?? "" };
}
