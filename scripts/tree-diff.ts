/** Compares two directory trees file by file: what the freshness checks of gen/ and console/dist/ share. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** Every file under `dir`, as `/`-separated paths relative to it, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split("\\").join("/"));
    }
  };
  walk(dir);
  return out.sort();
}

/** Files that differ between `want` and `have`: missing, extra, or with other bytes. */
export function staleFiles(want: string, have: string): string[] {
  const wanted = listFiles(want);
  let had: string[];
  try {
    had = listFiles(have);
  } catch {
    had = [];
  }
  return [
    ...wanted.filter((f) => !had.includes(f) || !readFileSync(join(want, f)).equals(readFileSync(join(have, f)))),
    ...had.filter((f) => !wanted.includes(f)),
  ];
}
