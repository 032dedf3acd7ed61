/**
 * The console's frame (skip link, navigation, who is signed in, main landmark) and its routes; the
 * sign-in form instead of the routes while the registry needs a token.
 */
import { lazy, Suspense } from "react";
import { Link, Redirect, Route, Switch, useLocation } from "wouter";
import { useClients } from "./api/console-clients.js";
import { usePageTitle } from "./components/page-title.js";
import { SignInForm } from "./components/sign-in-form.js";
import { useSession } from "./components/use-session.js";
import { ExperimentsPage } from "./pages/experiments-page.js";
import { RunsPage } from "./pages/runs-page.js";

// The experiments and runs pages are in the entry chunk (the runs page must render fast on large
// experiments); the others load on first visit.
const RunPage = lazy(() => import("./pages/run-page.js").then((m) => ({ default: m.RunPage })));
const ComparePage = lazy(() => import("./pages/compare-page.js").then((m) => ({ default: m.ComparePage })));
const ModelsPage = lazy(() => import("./pages/models-page.js").then((m) => ({ default: m.ModelsPage })));
const ModelPage = lazy(() => import("./pages/model-page.js").then((m) => ({ default: m.ModelPage })));
const ServingPage = lazy(() => import("./pages/serving-page.js").then((m) => ({ default: m.ServingPage })));

const sections = [
  { href: "/experiments", label: "Experiments", match: /^\/(experiments|runs|compare)/ },
  { href: "/models", label: "Models", match: /^\/models/ },
  { href: "/serving", label: "Serving", match: /^\/serving/ },
] as const;

/** The console. */
export function App() {
  const [location] = useLocation();
  const session = useSession();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/experiments" className="brand" aria-label="mlpipe console home">
          mlpipe
        </Link>
        <nav aria-label="Main">
          <ul>
            {sections.map((s) => (
              <li key={s.href}>
                <Link href={s.href} aria-current={s.match.test(location) ? "page" : undefined}>
                  {s.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        {session.kind === "signed-in" ? <SignedIn principal={session.principal} /> : null}
      </header>
      <main id="main" tabIndex={-1}>
        {session.kind === "checking" ? (
          <p aria-live="polite">Loading…</p>
        ) : session.kind === "signed-out" ? (
          <SignInForm notice={session.notice} />
        ) : (
          <Routes />
        )}
      </main>
    </>
  );
}

/** Who is signed in, and the sign-out (which forgets the token and every answer read with it). */
function SignedIn(props: { readonly principal: string }) {
  const { session } = useClients();
  return (
    <div className="session">
      <span>
        Signed in as <strong>{props.principal}</strong>
      </span>
      <button type="button" onClick={() => session.signOut()}>
        Sign out
      </button>
    </div>
  );
}

/** The pages. */
function Routes() {
  return (
    <Suspense fallback={<p aria-live="polite">Loading…</p>}>
      <Switch>
        <Route path="/">
          <Redirect to="/experiments" replace />
        </Route>
        <Route path="/experiments" component={ExperimentsPage} />
        <Route path="/runs" component={RunsPage} />
        <Route path="/runs/:runId">{(params) => <RunPage runId={params.runId} />}</Route>
        <Route path="/compare" component={ComparePage} />
        <Route path="/models" component={ModelsPage} />
        <Route path="/models/:name">{(params) => <ModelPage name={params.name} />}</Route>
        <Route path="/serving" component={ServingPage} />
        <Route component={NotFound} />
      </Switch>
    </Suspense>
  );
}

function NotFound() {
  usePageTitle("Not found");
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        This address is not a page of the console. <Link href="/experiments">Go to the experiments</Link>.
      </p>
    </section>
  );
}
