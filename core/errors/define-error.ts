import type { Code } from "./code.js";
import { MlpipeError, type MlpipeErrorOptions } from "./mlpipe-error.js";

/** What the catalogue records of an error: its id, code and a one-line summary. */
export interface ErrorInfo {
  readonly id: string;
  readonly code: Code;
  /** One line for the error reference (docs/errors.md). */
  readonly summary: string;
}

/**
 * A catalogued error: call it to make the error; `id` and `code` describe it without making one,
 * and `is` recognises an error made by it.
 */
export interface ErrorDefinition<A extends unknown[]> extends ErrorInfo {
  (...args: A): MlpipeError;
  is(err: unknown): err is MlpipeError;
}

/**
 * Declares an error of the catalogue. `message` builds the caller-safe text from the arguments;
 * pass `{ field, cause }` through `options` to name the request field or keep the cause for logs.
 */
export function defineError<A extends unknown[]>(
  id: string,
  code: Code,
  summary: string,
  message: (...args: A) => string,
  options?: (...args: A) => MlpipeErrorOptions,
): ErrorDefinition<A> {
  const make = (...args: A): MlpipeError => new MlpipeError(code, id, message(...args), options?.(...args));
  return Object.assign(make, {
    id,
    code,
    summary,
    is: (err: unknown): err is MlpipeError => err instanceof MlpipeError && err.id === id,
  });
}
