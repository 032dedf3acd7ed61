/** The sign-in state of api/console-session.ts, re-rendering on every change. */
import { useSyncExternalStore } from "react";
import { useClients } from "../api/console-clients.js";
import type { SessionState } from "../api/console-session.js";

/** The current sign-in state. */
export function useSession(): SessionState {
  const { session } = useClients();
  return useSyncExternalStore(session.subscribe, session.get);
}
