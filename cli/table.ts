/**
 * Plain-text tables for human output: a header row (capitals by convention), columns padded to their widest
 * cell, two spaces apart, no borders (as kubectl and docker print). Cells never contain newlines.
 */

/** Renders `rows` under `headers`; a row shorter than the header leaves its last cells empty. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const clean = (cell: string): string => cell.replace(/[\r\n\t]+/g, " ");
  const all = [headers, ...rows.map((r) => headers.map((_, i) => clean(r[i] ?? "")))];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? "")].length)));
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - [...cell].length)))
        .join("  ")
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join("");
}
