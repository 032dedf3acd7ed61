/**
 * A registered model kept live over the WatchRegisteredModel server stream (Connect over fetch):
 * its state first, then every change as it commits on any replica. A dropped stream reconnects
 * with `afterSequence`, so no change is missed, backing off from 0.5 s to 30 s; the stream ends
 * with the model's deletion.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { useEffect, useRef, useState } from "react";
import { type RegistryEvent, RegistryEventType } from "../../../gen/mlpipe/registry/v1/registry_pb.js";
import { useClients } from "../api/console-clients.js";
import { applyEvent, type ModelSnapshot, snapshotFromState } from "../lib/registry-timeline.js";

/** Where the stream is. */
export type WatchStatus = "connecting" | "live" | "reconnecting" | "ended";

/** What {@link useModelWatch} returns. */
export interface ModelWatch {
  /** Undefined until the stream's first message. */
  readonly snapshot: ModelSnapshot | undefined;
  readonly status: WatchStatus;
}

/** Watches model `name`; `onEvent` is called for every change after the initial state. */
export function useModelWatch(name: string, onEvent: (event: RegistryEvent) => void): ModelWatch {
  const { registry } = useClients();
  const [snapshot, setSnapshot] = useState<ModelSnapshot | undefined>(undefined);
  const [status, setStatus] = useState<WatchStatus>("connecting");
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    setSnapshot(undefined);
    setStatus("connecting");
    void (async () => {
      let afterSequence = 0n;
      for (let attempt = 0; !signal.aborted; attempt++) {
        try {
          for await (const message of registry.watchRegisteredModel({ name, afterSequence }, { signal })) {
            attempt = 0;
            setStatus("live");
            const content = message.content;
            if (content.case === "state") {
              afterSequence = content.value.sequence;
              setSnapshot(snapshotFromState(content.value));
            } else if (content.case === "event") {
              const event = content.value;
              afterSequence = event.sequence;
              setSnapshot((s) => (s === undefined ? s : applyEvent(s, event)));
              onEventRef.current(event);
              if (event.type === RegistryEventType.MODEL_DELETED) {
                setStatus("ended");
                return;
              }
            }
          }
        } catch (err) {
          if (signal.aborted) return;
          if (err instanceof ConnectError && err.code === Code.NotFound) {
            setStatus("ended");
            return;
          }
        }
        setStatus("reconnecting");
        await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 500 * 2 ** attempt)));
      }
    })();
    return () => controller.abort();
  }, [name, registry]);

  return { snapshot, status };
}
