/**
 * Keeps a {@link RegistryModelState} in step with the registry through the WatchRegisteredModel
 * stream, for as long as the server runs. The first connection starts from the model's current
 * state; after a disconnect (registry restart, network failure, a stream the registry closed) it
 * reconnects with backoff and resumes after the last sequence seen, so no change is missed. A
 * model that does not exist yet is waited for the same way.
 */
import { create } from "@bufbuild/protobuf";
import { Code as ConnectCode, ConnectError } from "@connectrpc/connect";
import type { Logger } from "../../core/logger.js";
import { ModelStateSchema } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import type { RegistryClient } from "./registry-client.js";
import type { RegistryModelState } from "./registry-model-state.js";
import { type BackoffOptions, createBackoff, sleep } from "./retry-backoff.js";

/** Options of {@link startRegistryWatcher}. */
export interface RegistryWatcherOptions {
  readonly client: RegistryClient;
  /** The registered model to watch. */
  readonly name: string;
  /** The state to keep up to date (its sequence is the resume position). */
  readonly state: RegistryModelState;
  /** Called after every message that may have changed the state. Must not throw. */
  readonly onChange: () => void;
  readonly logger: Logger;
  /** Reconnect backoff; default 200 ms doubling up to 10 s. */
  readonly backoff?: BackoffOptions;
}

/** A running watcher. */
export interface RegistryWatcher {
  /** True while a stream is open and has delivered at least one message. */
  readonly connected: boolean;
  /** Ends the stream and stops reconnecting. */
  close(): Promise<void>;
}

/** Starts watching at once; failures are logged and retried, never thrown. */
export function startRegistryWatcher(options: RegistryWatcherOptions): RegistryWatcher {
  const { client, name, state, logger } = options;
  const backoff = createBackoff(options.backoff);
  const stop = new AbortController();
  let connected = false;
  let failures = 0;

  async function watchOnce(): Promise<void> {
    const from = state.sequence;
    const stream = client.rpc.watchRegisteredModel({ name, afterSequence: from }, { signal: stop.signal });
    for await (const message of stream) {
      if (!connected) {
        connected = true;
        backoff.reset();
        if (failures > 0) logger.info({ model: name, registry: client.url, after: from }, "registry watch reconnected");
        failures = 0;
      }
      switch (message.content.case) {
        case "state":
          state.reset(message.content.value);
          break;
        case "event":
          state.apply(message.content.value);
          break;
        case "heartbeat":
          state.advance(message.content.value.sequence);
          continue;
        default:
          continue;
      }
      options.onChange();
    }
  }

  const loop = (async () => {
    while (!stop.signal.aborted) {
      try {
        await watchOnce();
        if (stop.signal.aborted) break;
        failures++;
        logger.info({ model: name, registry: client.url }, "registry watch ended; reconnecting");
      } catch (err) {
        if (stop.signal.aborted) break;
        failures++;
        const e = ConnectError.from(err);
        if (e.code === ConnectCode.NotFound && state.sequence === 0n) {
          // Not registered yet (or deleted): keep asking, the server stays not ready until it appears.
          logger.warn({ model: name, registry: client.url }, "registered model not found; waiting for it");
        } else if (
          (e.code === ConnectCode.InvalidArgument || e.code === ConnectCode.NotFound) &&
          state.sequence !== 0n
        ) {
          // The resume position is unknown to the registry (its database was replaced, the model's
          // history is gone): start over from the model's current state.
          logger.warn(
            { model: name, err: e, after: state.sequence },
            "registry rejected the resume position; starting over",
          );
          state.reset(create(ModelStateSchema, { name }));
        } else {
          logger.warn({ model: name, registry: client.url, err: e, failures }, "registry watch failed; reconnecting");
        }
      }
      connected = false;
      await sleep(backoff.next(), stop.signal);
    }
  })();

  return {
    get connected() {
      return connected;
    },
    async close() {
      stop.abort();
      await loop;
    },
  };
}
