/**
 * The one row of a statement that always returns exactly one (INSERT/UPDATE ... RETURNING of a
 * row known to exist, a read-back in the same transaction). Its absence is a bug, not a client
 * error, so it throws a plain Error (INTERNAL at the edge).
 */
export function singleRow<R>(rows: readonly R[]): R {
  const row = rows[0];
  if (row === undefined) throw new Error("a statement that always returns a row returned none");
  return row;
}
