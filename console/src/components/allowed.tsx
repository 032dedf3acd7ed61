/** Hides what the signed-in user may not do (see api/access.ts): wrap every action button in it. */
import type { ReactNode } from "react";
import type { ConsoleAction } from "../api/access.js";
import { useClients } from "../api/console-clients.js";

/** True when the current user may take `action`. */
export function useCan(action: ConsoleAction): boolean {
  return useClients().access().can(action);
}

/** Renders `children` only when the current user may take `action`. */
export function Allowed(props: { readonly action: ConsoleAction; readonly children: ReactNode }) {
  return useCan(props.action) ? props.children : null;
}
