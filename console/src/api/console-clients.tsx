/**
 * The console's API clients: the generated Connect-Web clients of TrackingService,
 * RegistryService and AuthService over one transport to the page's own origin (the registry
 * port), with the access interceptor. Binary protobuf: a page of runs decodes several times
 * faster than its JSON.
 */
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { createContext, type ReactNode, useContext } from "react";
import { AuthService } from "../../../gen/mlpipe/auth/v1/auth_pb.js";
import { RegistryService } from "../../../gen/mlpipe/registry/v1/registry_pb.js";
import { TrackingService } from "../../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { type ConsoleAccess, createAccessInterceptor } from "./access.js";
import type { ConsoleSession } from "./console-session.js";

/** The clients every page uses. */
export interface ConsoleClients {
  readonly tracking: Client<typeof TrackingService>;
  readonly registry: Client<typeof RegistryService>;
  readonly auth: Client<typeof AuthService>;
  /** The sign-in state. */
  readonly session: ConsoleSession;
  /** The current access, for plain fetches (the Serving proxy). */
  readonly access: () => ConsoleAccess;
}

/** Creates the clients for the registry at `baseUrl` (the page's origin), carrying `session`'s credentials. */
export function createConsoleClients(baseUrl: string, session: ConsoleSession): ConsoleClients {
  const transport = createConnectTransport({
    baseUrl,
    useBinaryFormat: true,
    interceptors: [createAccessInterceptor(session.access, session.refused)],
  });
  return {
    tracking: createClient(TrackingService, transport),
    registry: createClient(RegistryService, transport),
    auth: createClient(AuthService, transport),
    session,
    access: session.access,
  };
}

const ClientsContext = createContext<ConsoleClients | undefined>(undefined);

/** Provides `clients` to the pages below. */
export function ClientsProvider(props: { readonly clients: ConsoleClients; readonly children: ReactNode }) {
  return <ClientsContext.Provider value={props.clients}>{props.children}</ClientsContext.Provider>;
}

/** The clients of the nearest {@link ClientsProvider}. */
export function useClients(): ConsoleClients {
  const clients = useContext(ClientsContext);
  if (clients === undefined) throw new Error("useClients outside of ClientsProvider");
  return clients;
}
