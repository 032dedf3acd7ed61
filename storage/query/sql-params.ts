import type { SortColumnType } from "./page-token.js";

/**
 * Collects the positional parameters of one statement, returning the placeholder of each value
 * added (`$3::float8`): user values only ever travel as parameters, never in the SQL text.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  /** Adds a value (its text form, cast back by PostgreSQL) and returns its placeholder. */
  add(value: string, type: SortColumnType): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}
