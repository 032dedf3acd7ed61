/** Entry of the web console: API clients, query cache and the app, mounted on #root. */
import { Code, ConnectError } from "@connectrpc/connect";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ClientsProvider, createConsoleClients } from "./api/console-clients.js";
import { createConsoleSession } from "./api/console-session.js";
import { experimentQuery, readRunsView, runsPageQuery } from "./api/runs-query.js";
import { App } from "./app.js";
import "./styles.css";

/** Client mistakes (bad filter, not found, no credentials) are not retried; an unavailable server is, twice. */
function shouldRetry(failures: number, error: unknown): boolean {
  if (error instanceof ConnectError) return error.code === Code.Unavailable && failures < 2;
  return false;
}

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: shouldRetry, refetchOnWindowFocus: false, staleTime: 10_000 } },
});
const session = createConsoleSession();
const clients = createConsoleClients(window.location.origin, session);
// Answers read with other credentials (or none) are not shown to whoever signs in next.
session.subscribe(() => {
  if (session.get().kind !== "signed-in") queryClient.clear();
});
void session.start(clients.auth);

// The runs page is the one opened on large experiments: its first page is requested now, while
// React still renders, instead of from the page's first effect.
if (window.location.pathname === "/runs") {
  const view = readRunsView(new URLSearchParams(window.location.search));
  if (view.experimentIds.length > 0) {
    void queryClient.prefetchQuery(runsPageQuery(clients.tracking, view, ""));
    for (const id of view.experimentIds) void queryClient.prefetchQuery(experimentQuery(clients.tracking, id));
  }
}

const root = document.getElementById("root");
if (root === null) throw new Error("index.html has no #root");
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <ClientsProvider clients={clients}>
        <App />
      </ClientsProvider>
    </QueryClientProvider>
  </StrictMode>,
);
