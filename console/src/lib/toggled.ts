/** A copy of `set` with `item` added when it was absent, removed when present (checkbox selections). */
export function toggled<T>(set: ReadonlySet<T>, item: T): Set<T> {
  const next = new Set(set);
  if (!next.delete(item)) next.add(item);
  return next;
}
