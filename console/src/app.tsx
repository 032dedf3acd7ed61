/** The console's frame (skip link, navigation, main landmark) and its routes. */
import { lazy, Suspense } from "react";
import { Link, Redirect, Route, Switch, useLocation } from "wouter";
import { usePageTitle } from "./components/page-title.js";
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
      </header>
      <main id="main" tabIndex={-1}>
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
      </main>
    </>
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
