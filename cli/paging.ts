/** Reading a keyset-paginated listing up to a limit, for the `list` commands. */
import { commonErrors } from "../core/errors/common-errors.js";

/** One page as the server returned it. */
export interface Page<T> {
  readonly items: readonly T[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

/** What {@link collectPages} read. */
export interface Collected<T> {
  readonly items: readonly T[];
  /** True when the server had more than `limit`. */
  readonly truncated: boolean;
}

/** Largest `--limit`: beyond it, use --json with a filter, or the API. */
export const maxListLimit = 10_000;

/** Parses `--limit` (default `fallback`); INVALID_ARGUMENT unless an integer in 1..{@link maxListLimit}. */
export function parseLimit(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > maxListLimit) {
    throw commonErrors.invalidArgument("--limit", `must be an integer from 1 to ${maxListLimit}, got "${text}"`);
  }
  return n;
}

/**
 * Calls `fetchPage` with each page token until `limit` items are read or the listing ends;
 * `pageSize` is what to ask for, at most `maxPageSize` (the server's limit).
 */
export async function collectPages<T>(
  limit: number,
  maxPageSize: number,
  fetchPage: (pageToken: string, pageSize: number) => Promise<Page<T>>,
): Promise<Collected<T>> {
  const items: T[] = [];
  let token = "";
  for (;;) {
    // Ask for one more than needed, to tell whether the listing was cut.
    const page = await fetchPage(token, Math.min(maxPageSize, limit - items.length + 1));
    items.push(...page.items);
    token = page.nextPageToken;
    if (items.length > limit) return { items: items.slice(0, limit), truncated: true };
    if (token === "") return { items, truncated: false };
    if (items.length === limit) return { items, truncated: true };
  }
}
