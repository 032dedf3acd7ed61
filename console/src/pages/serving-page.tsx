/**
 * The inference server the registry is configured with (CONSOLE_INFERENCE_URL, or the platform's
 * own): the model it serves as `/model/info` reports it, whether that is what the registry has at
 * the stage or alias it follows, and its request rate, error share and p99 latency from `/metrics`,
 * read every 5 seconds.
 */
import { useQuery } from "@tanstack/react-query";
import { useRef } from "react";
import { Link } from "wouter";
import { useClients } from "../api/console-clients.js";
import { fetchMetricsText, fetchModelInfo, type TensorInfo } from "../api/serving-api.js";
import { ErrorNotice } from "../components/error-notice.js";
import { usePageTitle } from "../components/page-title.js";
import { parsePrometheusText } from "../lib/prometheus-text.js";
import { stageName, stages } from "../lib/registry-format.js";
import { readScrape, type Scrape, servingStats } from "../lib/serving-stats.js";

/** How often the page reads the server, ms. */
const refreshMs = 5_000;

/** The serving page. */
export function ServingPage() {
  usePageTitle("Serving");
  const { registry, access } = useClients();
  const info = useQuery({
    queryKey: ["serving-info"],
    queryFn: ({ signal }) => fetchModelInfo(access(), signal),
    refetchInterval: refreshMs,
    retry: false,
  });
  const previous = useRef<Scrape | undefined>(undefined);
  const metrics = useQuery({
    queryKey: ["serving-metrics"],
    queryFn: async ({ signal }) => {
      const scrape = readScrape(parsePrometheusText(await fetchMetricsText(access(), signal)), Date.now());
      const stats = servingStats(previous.current, scrape);
      previous.current = scrape;
      return stats;
    },
    refetchInterval: refreshMs,
    retry: false,
  });
  const model = info.data;
  const follows = model?.stage ?? "";
  const followedStage = stages.find((s) => stageName(s).toLowerCase() === follows.toLowerCase());
  const expected = useQuery({
    queryKey: ["serving-expected", model?.name ?? "", follows],
    enabled: model !== undefined && follows !== "",
    refetchInterval: refreshMs,
    queryFn: async ({ signal }) => {
      const name = model?.name ?? "";
      if (followedStage !== undefined) {
        const latest = await registry.getLatestVersions({ name, stages: [followedStage] }, { signal });
        return latest.modelVersions[0]?.version;
      }
      return (await registry.getModelVersionByAlias({ name, alias: follows }, { signal })).modelVersion?.version;
    },
  });
  const stats = metrics.data;
  const registryVersion = expected.data === undefined ? undefined : String(expected.data);

  return (
    <section>
      <h1>Serving</h1>
      {info.error ? <ErrorNotice error={info.error} title="Model info:" /> : null}
      {model === undefined ? (
        info.isPending ? (
          <p aria-live="polite">Reading the inference server…</p>
        ) : null
      ) : (
        <>
          <h2>
            {model.name} version {model.version}
          </h2>
          <dl className="facts">
            <dt>Follows</dt>
            <dd>{follows === "" ? "a local file (MODEL_PATH)" : follows}</dd>
            <dt>Registry has</dt>
            <dd aria-live="polite">
              {registryVersion === undefined
                ? "—"
                : registryVersion === model.version
                  ? `version ${registryVersion} (in sync)`
                  : `version ${registryVersion} (the server is swapping to it)`}
            </dd>
            <dt>Aliases</dt>
            <dd>{model.aliases?.length ? model.aliases.map((a) => `@${a}`).join(", ") : "—"}</dd>
            <dt>Source</dt>
            <dd>
              <code>{model.source ?? "—"}</code>
            </dd>
            <dt>Loaded at</dt>
            <dd>{model.loaded_at ?? "—"}</dd>
            <dt>Task</dt>
            <dd>{model.task ?? "—"}</dd>
            <dt>Inputs</dt>
            <dd>{tensors(model.signature?.inputs)}</dd>
            <dt>Outputs</dt>
            <dd>{tensors(model.signature?.outputs)}</dd>
          </dl>
          <p>
            <Link href={`/models/${encodeURIComponent(model.name)}`}>Open {model.name} in the registry</Link>
          </p>
        </>
      )}
      <h2>Traffic</h2>
      {metrics.error ? <ErrorNotice error={metrics.error} title="Metrics:" /> : null}
      {stats === undefined ? null : (
        <>
          <dl className="stat-cards">
            <div>
              <dt>Requests per second</dt>
              <dd>{stats.requestsPerSecond === undefined ? "…" : stats.requestsPerSecond.toFixed(1)}</dd>
            </div>
            <div>
              <dt>p99 latency</dt>
              <dd>{stats.p99Seconds === undefined ? "—" : `${(stats.p99Seconds * 1000).toFixed(2)} ms`}</dd>
            </div>
            <div>
              <dt>Errors</dt>
              <dd>{stats.errorRatio === undefined ? "—" : `${(stats.errorRatio * 100).toFixed(2)} %`}</dd>
            </div>
            <div>
              <dt>Requests answered</dt>
              <dd>{stats.totalRequests}</dd>
            </div>
            <div>
              <dt>In flight</dt>
              <dd>{stats.inFlight}</dd>
            </div>
            <div>
              <dt>Rows queued</dt>
              <dd>{stats.queuedRows}</dd>
            </div>
          </dl>
          <p className="hint">
            {stats.window === "interval"
              ? `Latency and errors over the last ${refreshMs / 1000} s.`
              : "Latency and errors since the server started (no request in the last interval)."}{" "}
            Read from the inference server's <code>/metrics</code> every {refreshMs / 1000} s.
          </p>
        </>
      )}
    </section>
  );
}

function tensors(list: readonly TensorInfo[] | undefined): string {
  if (list === undefined || list.length === 0) return "—";
  return list.map((t) => `${t.name} ${t.dtype} [${t.shape.map((d) => (d < 0 ? "batch" : d)).join(", ")}]`).join("; ");
}
