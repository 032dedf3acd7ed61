/**
 * The registry's readiness: whether its metadata database answers. One probe (`SELECT 1`) every
 * `intervalMs`, each given `timeoutMs`, feeds /health/ready, gRPC Health and the
 * `registry_database_up` metric alike, so all three agree and a probe storm from load balancers
 * and Kubernetes costs the database nothing.
 */
import type { Logger } from "../../core/logger.js";
import { createReadiness, type Readiness } from "./readiness.js";

/** Options of {@link createDatabaseReadiness}. */
export interface DatabaseReadinessOptions {
  /** One cheap round trip to the database (`SELECT 1`); rejects when it cannot be reached. */
  readonly ping: () => Promise<unknown>;
  /** Time between two probes, ms (a probe starts only once the previous one ended). */
  readonly intervalMs: number;
  /** Longest a probe may take before the database counts as unreachable, ms. */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/** A database readiness being probed. */
export interface DatabaseReadiness {
  /** Serving while the last probe succeeded; starts serving (the caller just migrated the database). */
  readonly readiness: Readiness;
  /** Probes now and updates the status; resolves with it. Never rejects. */
  probe(): Promise<boolean>;
  /** Stops probing and reports not serving from now on (shutdown). Idempotent. */
  close(): void;
}

/** Starts probing with `ping` every `intervalMs`. */
export function createDatabaseReadiness(options: DatabaseReadinessOptions): DatabaseReadiness {
  const readiness = createReadiness();
  readiness.set(true);
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const probe = async (): Promise<boolean> => {
    let timeout: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timeout = setTimeout(() => resolve("timeout"), options.timeoutMs);
    });
    let reachable: boolean;
    try {
      reachable = (await Promise.race([options.ping(), timedOut])) !== "timeout";
    } catch {
      reachable = false;
    } finally {
      clearTimeout(timeout);
    }
    if (closed) return false;
    if (reachable !== readiness.serving) {
      if (reachable) options.logger.info("metadata database reachable again: ready");
      else options.logger.warn({ timeoutMs: options.timeoutMs }, "metadata database unreachable: not ready");
    }
    readiness.set(reachable);
    return reachable;
  };

  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(() => void probe().then(schedule), options.intervalMs);
    timer.unref();
  };
  schedule();

  return {
    readiness,
    probe,
    close() {
      closed = true;
      clearTimeout(timer);
      readiness.set(false);
    },
  };
}
