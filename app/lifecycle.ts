/**
 * Start in order, close in reverse, written once (fastify's plugins and their onClose hooks): a
 * composition root registers each part of its process as it starts it, with how to close it.
 * When a later start fails, what had started is closed in reverse order and the failure is
 * rethrown; on shutdown every part closes in reverse order of registration. A root that lists
 * its parts once cannot forget to unwind one, nor close them in the wrong order.
 */
import type { Logger } from "../core/logger.js";

/** The parts of one process, closed in reverse order of registration. */
export interface Lifecycle {
  /**
   * Starts a part (awaiting `start`) and then registers `close` for it. A start that throws
   * registers nothing: it is the caller's to leave nothing open behind it.
   */
  start<T>(name: string, start: () => T | Promise<T>, close: (part: T) => void | Promise<void>): Promise<T>;
  /**
   * Registers a close step for what is running or about to start: it runs before every step
   * registered earlier and after every step registered later. Registering the step first, then
   * starting what it closes, makes the step cover a start that fails halfway (it must then close
   * what did start, and nothing else).
   */
  onClose(name: string, close: () => void | Promise<void>): void;
  /**
   * Runs every close step once, in reverse order of registration, each after the previous one
   * settled, even when one fails (the failure is logged). Rejects with the first failure once all
   * ran. Idempotent: later calls return the same promise.
   */
  close(): Promise<void>;
  /** True once {@link close} was called (e.g. to ignore events that would start serving again). */
  readonly closing: boolean;
}

interface Step {
  readonly name: string;
  readonly close: () => void | Promise<void>;
}

/** Creates an empty lifecycle; close failures are logged to `logger`. */
export function createLifecycle(logger: Logger): Lifecycle {
  const steps: Step[] = [];
  let closing: Promise<void> | undefined;

  async function closeAll(): Promise<void> {
    let failure: { readonly err: unknown } | undefined;
    for (const step of [...steps].reverse()) {
      try {
        await step.close();
      } catch (err) {
        logger.error({ err, part: step.name }, "closing failed");
        failure ??= { err };
      }
    }
    if (failure !== undefined) throw failure.err;
  }

  return {
    async start(name, start, close) {
      const part = await start();
      steps.push({ name, close: () => close(part) });
      return part;
    },
    onClose(name, close) {
      steps.push({ name, close });
    },
    close() {
      closing ??= closeAll();
      return closing;
    },
    get closing() {
      return closing !== undefined;
    },
  };
}

/**
 * Composes a process: runs `compose` with a fresh lifecycle and returns what it returns (which
 * holds the lifecycle's `close` for shutdown). When `compose` throws, everything it registered is
 * closed in reverse order and its error rethrown (failures while closing are only logged).
 */
export async function composeLifecycle<T>(logger: Logger, compose: (life: Lifecycle) => Promise<T>): Promise<T> {
  const life = createLifecycle(logger);
  try {
    return await compose(life);
  } catch (err) {
    await life.close().catch(() => undefined);
    throw err;
  }
}
