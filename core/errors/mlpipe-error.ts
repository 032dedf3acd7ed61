import { Code, codeName } from "./code.js";

/** Options of a {@link MlpipeError}. */
export interface MlpipeErrorOptions {
  /** The request field the error is about, e.g. "metrics[3].key". */
  readonly field?: string | undefined;
  /** The underlying error, for the log only: never shown to the caller. */
  readonly cause?: unknown;
}

/**
 * The one error class of mlpipe. `message` is safe to show to the caller; `cause` is for logs.
 * Transports translate it: gRPC/Connect status + ErrorDetail, or HTTP status (see
 * codeToHttpStatus) with a JSON body `{"error": {"code", "id", "message", "field"}}`.
 */
export class MlpipeError extends Error {
  override readonly name = "MlpipeError";
  /** The gRPC status code. */
  readonly code: Code;
  /** Stable id from the catalogue, e.g. "TRACKING_RUN_NOT_FOUND". */
  readonly id: string;
  /** The request field the error is about, when there is one. */
  readonly field: string | undefined;

  constructor(code: Code, id: string, message: string, options: MlpipeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.id = id;
    this.field = options.field;
  }
}

/**
 * An error as plain data, for crossing thread or process boundaries (structured clone keeps no
 * class): recognised by shape with {@link isErrorData}, never by `instanceof`.
 */
export interface ErrorData {
  readonly ok: false;
  readonly code: Code;
  readonly id: string;
  readonly message: string;
  readonly field?: string;
}

/** True when `value` has the shape of {@link ErrorData}. */
export function isErrorData(value: unknown): value is ErrorData {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.ok === false &&
    typeof v.code === "number" &&
    Number.isInteger(v.code) &&
    v.code >= 1 &&
    v.code <= 16 &&
    typeof v.id === "string" &&
    typeof v.message === "string"
  );
}

/** Converts an error to data; anything that is not an MlpipeError becomes a generic INTERNAL. */
export function toErrorData(err: unknown): ErrorData {
  if (err instanceof MlpipeError) {
    return err.field === undefined
      ? { ok: false, code: err.code, id: err.id, message: err.message }
      : { ok: false, code: err.code, id: err.id, message: err.message, field: err.field };
  }
  if (isErrorData(err)) return err;
  return { ok: false, code: Code.Internal, id: "INTERNAL", message: "internal error" };
}

/** Rebuilds an MlpipeError from data received from another thread or process. */
export function fromErrorData(data: ErrorData): MlpipeError {
  return new MlpipeError(data.code, data.id, data.message, { field: data.field });
}

/** The JSON error body of HTTP routes: `{"error": {"code": "not_found", "id", "message", "field"}}`. */
export function errorJsonBody(err: MlpipeError): { error: Record<string, string> } {
  const body: Record<string, string> = { code: codeName(err.code), id: err.id, message: err.message };
  if (err.field !== undefined) body.field = err.field;
  return { error: body };
}
