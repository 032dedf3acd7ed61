/**
 * A syntax or type problem found while reading a filter or an order_by clause. The engine throws
 * it internally; the parsers turn it into the catalogued error the entity's search spec names
 * (e.g. TRACKING_INVALID_FILTER for runs), so it never reaches a caller.
 */
export class QuerySyntaxError extends Error {
  override readonly name = "QuerySyntaxError";
  /** 1-based column of the offending character or token (length + 1 for "at the end"). */
  readonly position: number;
  /** What is wrong, phrased for the caller, e.g. "expected a value after '>'". */
  readonly reason: string;

  constructor(position: number, reason: string) {
    super(`at position ${position}: ${reason}`);
    this.position = position;
    this.reason = reason;
  }
}
