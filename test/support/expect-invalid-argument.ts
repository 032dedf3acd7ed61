import { expect } from "vitest";
import { Code } from "../../core/errors/code.js";
import { MlpipeError } from "../../core/errors/mlpipe-error.js";

/**
 * Runs `fn`, expects it to throw INVALID_ARGUMENT about `field` (with the field named in the
 * message too), and returns the message for further checks.
 */
export function rejects(fn: () => unknown, field: string): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MlpipeError);
    const e = err as MlpipeError;
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.id).toBe("INVALID_ARGUMENT");
    expect(e.field).toBe(field);
    expect(e.message).toContain(field);
    return e.message;
  }
  throw new Error(`expected INVALID_ARGUMENT for ${field}`);
}
