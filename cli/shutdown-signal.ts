/**
 * Waiting for the signal that stops a server command: the first SIGINT (Ctrl-C) or SIGTERM starts
 * a graceful shutdown; the handlers are then removed, so a second one stops the process at once
 * (the default action), for a user who does not want to wait for the drain.
 */

/** A pending stop request. */
export interface ShutdownSignal {
  /** Resolves with the first SIGINT or SIGTERM received after creation. */
  readonly received: Promise<NodeJS.Signals>;
  /** Stops listening (the command ended by itself). */
  dispose(): void;
}

/** Starts listening at once, so a signal during startup is not lost (and does not kill the process mid-write). */
export function listenForShutdown(): ShutdownSignal {
  let dispose = (): void => {};
  const received = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      dispose();
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    dispose = () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    };
  });
  return { received, dispose: () => dispose() };
}
