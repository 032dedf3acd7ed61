/**
 * The lifetime every server command shares: listen for SIGINT / SIGTERM before starting (so a
 * signal during startup is not lost), start, announce, wait for the signal, stop gracefully.
 */
import type { Logger } from "../core/logger.js";
import { ExitCode, type ExitCodeValue } from "./exit-codes.js";
import { installProcessFaultPolicy } from "./process-fault-policy.js";
import { listenForShutdown } from "./shutdown-signal.js";

/** What one server command starts, announces and stops. */
export interface ServerLifetime<S> {
  readonly logger: Logger;
  /** Starts the server (a failure stops listening for signals and is rethrown). */
  start(): Promise<S>;
  /**
   * Tells the user the server is up. `stopping` resolves with the stop signal, for an
   * announcement that waits (for a model) and must give up when the user stops first.
   */
  announce(server: S, stopping: Promise<NodeJS.Signals>): void | Promise<void>;
  /** Drains and closes the server once a signal came. */
  stop(server: S): Promise<void>;
}

/** Runs a server until SIGINT or SIGTERM, then stops it; resolves with exit code 0. */
export async function runServer<S>(lifetime: ServerLifetime<S>): Promise<ExitCodeValue> {
  const shutdown = listenForShutdown();
  const removeFaultPolicy = installProcessFaultPolicy({ logger: lifetime.logger });
  try {
    let server: S;
    try {
      server = await lifetime.start();
    } catch (err) {
      shutdown.dispose();
      throw err;
    }
    await lifetime.announce(server, shutdown.received);
    const signal = await shutdown.received;
    lifetime.logger.info({ signal }, "shutting down");
    await lifetime.stop(server);
    return ExitCode.ok;
  } finally {
    removeFaultPolicy();
  }
}
