/**
 * The last resort of a server process, for an error no code path handled. An unhandled promise
 * rejection is logged with its error and counted, and the server keeps serving: Node 20's default
 * would crash the process and drop every in-flight request for one forgotten `.catch`. An uncaught
 * exception is logged, counted and ends the process with exit code 1: the stack it unwound may have
 * left state half-updated, so the orchestrator's restart is the safe way on.
 */
import type { Logger } from "../core/logger.js";
import { recordProcessFault } from "../core/process-faults.js";
import { ExitCode } from "./exit-codes.js";

/** Options of {@link installProcessFaultPolicy}. */
export interface ProcessFaultPolicyOptions {
  readonly logger: Logger;
  /** Ends the process after an uncaught exception; default: flush stdout, then `process.exit(code)`. */
  readonly exit?: (code: number) => void;
}

/** Installs the policy on `process`; the returned function removes it (the server command ended). */
export function installProcessFaultPolicy(options: ProcessFaultPolicyOptions): () => void {
  const { logger } = options;
  const exit = options.exit ?? ((code: number) => process.stdout.write("", () => process.exit(code)));
  const onRejection = (reason: unknown): void => {
    recordProcessFault("unhandled_rejection");
    logger.error({ err: reason, fault: "unhandled_rejection" }, "unhandled promise rejection (a bug); still serving");
  };
  const onException = (err: Error, origin: string): void => {
    recordProcessFault("uncaught_exception");
    logger.fatal({ err, origin, fault: "uncaught_exception" }, "uncaught exception (a bug); exiting for a restart");
    exit(ExitCode.serverError);
  };
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
  return () => {
    process.off("unhandledRejection", onRejection);
    process.off("uncaughtException", onException);
  };
}
