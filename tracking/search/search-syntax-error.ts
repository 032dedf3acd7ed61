/**
 * A syntax or type problem found while reading a filter or an order_by clause, before it is
 * turned into the catalogued error of its field (TRACKING_INVALID_FILTER or
 * TRACKING_INVALID_ORDER_BY). Never leaves this folder: the parsers translate it.
 */
export class SearchSyntaxError extends Error {
  override readonly name = "SearchSyntaxError";
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
