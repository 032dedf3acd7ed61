/** The console's frame (skip link, navigation, main landmark) and its routes. */
import { Link, Redirect, Route, Switch, useLocation } from "wouter";
import { usePageTitle } from "./components/page-title.js";
import { ComparePage } from "./pages/compare-page.js";
import { ExperimentsPage } from "./pages/experiments-page.js";
import { ModelPage } from "./pages/model-page.js";
import { ModelsPage } from "./pages/models-page.js";
import { RunPage } from "./pages/run-page.js";
import { RunsPage } from "./pages/runs-page.js";
import { ServingPage } from "./pages/serving-page.js";

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
