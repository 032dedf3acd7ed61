/**
 * The inference server's serving status, shared by /health/ready and gRPC Health (Check and
 * Watch): not serving until the first model is loaded and warmed, and again once draining starts.
 */

/** A serving status that can be watched. */
export interface Readiness {
  /** True while the server accepts predictions. */
  readonly serving: boolean;
  /** Changes the status; listeners hear only real changes. */
  set(serving: boolean): void;
  /** Calls `listener` on every change until the returned function is called. */
  subscribe(listener: (serving: boolean) => void): () => void;
}

/** Creates a status, initially not serving. */
export function createReadiness(): Readiness {
  let serving = false;
  const listeners = new Set<(serving: boolean) => void>();
  return {
    get serving() {
      return serving;
    },
    set(value: boolean) {
      if (value === serving) return;
      serving = value;
      for (const l of [...listeners]) l(value);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
