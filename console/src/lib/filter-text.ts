/** Filters the console builds from what a user types in a search box. */

/** A single-quoted string literal of the filter language (a quote inside is doubled). */
export function quoted(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `name ILIKE '%text%'`, or "" for blank text (no filter); `%` and `_` in the text match themselves loosely. */
export function nameContains(text: string): string {
  const trimmed = text.trim();
  return trimmed === "" ? "" : `name ILIKE ${quoted(`%${trimmed}%`)}`;
}
