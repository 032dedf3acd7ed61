/**
 * How a failed command is reported: one line `error: <code>: <message>` on stderr (or a JSON
 * object with `--json`), never a stack trace, and an exit code that says whose fault it was.
 */
import { type Code as ConnectCode, ConnectError } from "@connectrpc/connect";
import { ConfigError } from "../core/config.js";
import { cliErrors } from "../core/errors/cli-errors.js";
import { Code, codeName } from "../core/errors/code.js";
import { MlpipeError } from "../core/errors/mlpipe-error.js";
import { ErrorDetailSchema } from "../gen/mlpipe/common/v1/error_pb.js";
import { ExitCode, type ExitCodeValue } from "./exit-codes.js";

/** A failure as shown to the user. */
export interface CliFailure {
  readonly exitCode: ExitCodeValue;
  /** gRPC code name in snake case, e.g. "not_found". */
  readonly code: string;
  /** Catalogue id when the server sent one, e.g. "REGISTRY_MODEL_NOT_FOUND". */
  readonly id: string | undefined;
  readonly message: string;
}

/** Socket-level error codes meaning the server was never reached, or the connection broke. */
const unreachableCauses = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EPIPE",
]);

/**
 * Classifies an error thrown by a command:
 * - ConfigError and INVALID_ARGUMENT MlpipeErrors are raised locally, before or instead of a call
 *   (the CLI's argument checks, the SDK's): usage, exit 2;
 * - a ConnectError whose cause is a socket error (ECONNREFUSED, ENOTFOUND, ...): unreachable, exit 3,
 *   naming `target` (the URL the command talked to);
 * - any other ConnectError is the server's answer, and any other MlpipeError a failed outcome
 *   (a version that did not register, a download that did not match its checksum): exit 1;
 * - a port in use (a server command): exit 1 with a hint;
 * - anything else is a bug of the CLI: exit 1 with its message, still no stack trace.
 */
export function toCliFailure(err: unknown, target: string | undefined): CliFailure {
  if (err instanceof ConfigError) {
    return { exitCode: ExitCode.usage, code: codeName(Code.InvalidArgument), id: undefined, message: err.message };
  }
  if (err instanceof MlpipeError) {
    if (err.id === cliErrors.serverUnreachable.id) {
      return { exitCode: ExitCode.unreachable, code: codeName(err.code), id: err.id, message: err.message };
    }
    const exitCode = err.code === Code.InvalidArgument ? ExitCode.usage : ExitCode.serverError;
    return { exitCode, code: codeName(err.code), id: err.id, message: err.message };
  }
  if (err instanceof ConnectError) {
    const socketCode = causeCode(err.cause);
    if (socketCode !== undefined && unreachableCauses.has(socketCode)) {
      const e = cliErrors.serverUnreachable(target ?? "(unknown URL)", socketCode);
      return { exitCode: ExitCode.unreachable, code: codeName(e.code), id: e.id, message: e.message };
    }
    const detail = err.findDetails(ErrorDetailSchema)[0];
    return {
      exitCode: ExitCode.serverError,
      code: connectCodeName(err.code),
      id: detail?.id === "" ? undefined : detail?.id,
      message: err.rawMessage,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  if (causeCode(err) === "EADDRINUSE") {
    // A server command could not listen: say what to do about it.
    const hint = "another process uses the port; choose another with the command's port flags, see --help";
    return {
      exitCode: ExitCode.serverError,
      code: codeName(Code.Unavailable),
      id: undefined,
      message: `${message} (${hint})`,
    };
  }
  return { exitCode: ExitCode.serverError, code: codeName(Code.Internal), id: undefined, message };
}

/** The line printed for a failure: `error: not_found: registered model "x" not found`. */
export function formatFailure(failure: CliFailure): string {
  return `error: ${failure.code}: ${failure.message}\n`;
}

/** The `--json` form of a failure: `{"error": {"code", "id", "message"}}`, as the JSON routes answer. */
export function failureJson(failure: CliFailure): string {
  const body: Record<string, string> = { code: failure.code, message: failure.message };
  if (failure.id !== undefined) body.id = failure.id;
  return `${JSON.stringify({ error: body, exitCode: failure.exitCode })}\n`;
}

function causeCode(cause: unknown): string | undefined {
  // Node's socket errors carry their errno name in `code`; connect-node keeps the error as cause.
  for (let c = cause, depth = 0; typeof c === "object" && c !== null && depth < 4; depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === "string") return code;
    c = (c as { cause?: unknown }).cause;
  }
  return undefined;
}

function connectCodeName(code: ConnectCode): string {
  // The numbers are the gRPC codes on both sides; core's table names them.
  return Number.isInteger(code) && code >= 1 && code <= 16 ? codeName(code as number as Code) : "unknown";
}
