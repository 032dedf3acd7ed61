/**
 * One run: overview, metrics (latest values, and every history as a chart), params, tags, the
 * artifacts browser and the model versions registered from the run.
 */
import { useQueries, useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link } from "wouter";
import { useClients } from "../api/console-clients.js";
import { fetchMetricHistory } from "../api/metric-history.js";
import { ErrorNotice } from "../components/error-notice.js";
import { ChartControls, type ChartSettings, defaultChartSettings, MetricChart } from "../components/metric-chart.js";
import { usePageTitle } from "../components/page-title.js";
import { quoted } from "../lib/filter-text.js";
import { formatDuration, formatTime, formatValue, runStatusName } from "../lib/format.js";
import { stageName, versionStatusName } from "../lib/registry-format.js";
import { toggled } from "../lib/toggled.js";
import { ArtifactsPanel } from "./artifacts-panel.js";

/** Charts drawn before the user picks: the first metrics of the run. */
const chartsShownFirst = 6;

/** The run page. */
export function RunPage(props: { readonly runId: string }) {
  const { tracking, registry } = useClients();
  const { runId } = props;
  const run = useQuery({
    queryKey: ["run", runId],
    queryFn: ({ signal }) => tracking.getRun({ runId }, { signal }),
  });
  const info = run.data?.run?.info;
  const data = run.data?.run?.data;
  usePageTitle(info?.runName ? `Run ${info.runName}` : "Run");
  const experiment = useQuery({
    queryKey: ["experiment", info?.experimentId ?? ""],
    queryFn: ({ signal }) => tracking.getExperiment({ experimentId: info?.experimentId ?? "" }, { signal }),
    enabled: info !== undefined,
    staleTime: 60_000,
  });
  const versions = useQuery({
    queryKey: ["versions-of-run", runId],
    queryFn: ({ signal }) =>
      registry.searchModelVersions({ filter: `run_id = ${quoted(runId)}`, maxResults: 100 }, { signal }),
  });
  const metricKeys = useMemo(() => (data?.metrics ?? []).map((m) => m.key).sort((a, b) => a.localeCompare(b)), [data]);
  const [charted, setCharted] = useState<ReadonlySet<string> | undefined>(undefined);
  const shown = charted ?? new Set(metricKeys.slice(0, chartsShownFirst));
  const [settings, setSettings] = useState<ChartSettings>(defaultChartSettings);

  if (run.error) {
    return (
      <section>
        <h1>Run</h1>
        <ErrorNotice error={run.error} />
      </section>
    );
  }
  if (info === undefined || data === undefined) return <p aria-live="polite">Loading run…</p>;

  return (
    <article>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href="/experiments">Experiments</Link> /{" "}
        <Link href={`/runs?e=${encodeURIComponent(info.experimentId)}`}>
          {experiment.data?.experiment?.name ?? info.experimentId}
        </Link>{" "}
        / <span aria-current="page">{info.runName || info.runId}</span>
      </nav>
      <h1>Run {info.runName || info.runId}</h1>
      <dl className="facts">
        <dt>Run ID</dt>
        <dd>
          <code>{info.runId}</code>
        </dd>
        <dt>Status</dt>
        <dd>{runStatusName(info.status)}</dd>
        <dt>Started</dt>
        <dd>{formatTime(info.startTime)}</dd>
        <dt>Ended</dt>
        <dd>{info.endTime === undefined ? "—" : formatTime(info.endTime)}</dd>
        <dt>Duration</dt>
        <dd>{info.endTime === undefined ? "—" : formatDuration(Number(info.endTime - info.startTime))}</dd>
        <dt>Artifacts</dt>
        <dd>
          <code>{info.artifactUri}</code>
        </dd>
      </dl>

      <section aria-labelledby="metrics-heading">
        <h2 id="metrics-heading">Metrics</h2>
        {metricKeys.length === 0 ? (
          <p>No metric logged.</p>
        ) : (
          <>
            <div className="table-wrap">
              <table className="compact">
                <caption className="visually-hidden">Latest value of each metric</caption>
                <thead>
                  <tr>
                    <th scope="col">Chart</th>
                    <th scope="col">Metric</th>
                    <th scope="col">Latest value</th>
                    <th scope="col">Step</th>
                  </tr>
                </thead>
                <tbody>
                  {(data.metrics ?? [])
                    .slice()
                    .sort((a, b) => a.key.localeCompare(b.key))
                    .map((m) => (
                      <tr key={m.key}>
                        <td>
                          <input
                            type="checkbox"
                            aria-label={`Chart ${m.key}`}
                            checked={shown.has(m.key)}
                            onChange={() => setCharted(toggled(shown, m.key))}
                          />
                        </td>
                        <th scope="row">{m.key}</th>
                        <td className="num">{formatValue(m.value)}</td>
                        <td>{String(m.step)}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
            <ChartControls settings={settings} onChange={setSettings} />
            <RunCharts
              runId={runId}
              runName={info.runName || info.runId}
              keys={metricKeys.filter((k) => shown.has(k))}
              settings={settings}
            />
          </>
        )}
      </section>

      <div className="two-columns">
        <KeyValueSection title="Params" values={data.params} />
        <KeyValueSection title="Tags" values={data.tags} />
      </div>

      <section aria-labelledby="artifacts-heading">
        <h2 id="artifacts-heading">Artifacts</h2>
        <ArtifactsPanel runId={runId} />
      </section>

      <section aria-labelledby="versions-heading">
        <h2 id="versions-heading">Registered model versions</h2>
        {versions.error ? <ErrorNotice error={versions.error} /> : null}
        {versions.data?.modelVersions.length === 0 ? <p>No model version was registered from this run.</p> : null}
        <ul>
          {versions.data?.modelVersions.map((v) => (
            <li key={`${v.name}/${v.version}`}>
              <Link href={`/models/${encodeURIComponent(v.name)}`}>
                {v.name} version {String(v.version)}
              </Link>{" "}
              — {stageName(v.currentStage)}, {versionStatusName(v.status)}
              {v.aliases.length > 0 ? ` (@${v.aliases.join(", @")})` : ""}
            </li>
          ))}
        </ul>
      </section>
    </article>
  );
}

/** The charts of the chosen metrics, each history read in full. */
function RunCharts(props: {
  readonly runId: string;
  readonly runName: string;
  readonly keys: readonly string[];
  readonly settings: ChartSettings;
}) {
  const { tracking } = useClients();
  const histories = useQueries({
    queries: props.keys.map((key) => ({
      queryKey: ["history", props.runId, key],
      queryFn: ({ signal }: { signal: AbortSignal }) => fetchMetricHistory(tracking, props.runId, key, signal),
    })),
  });
  return (
    <div className="chart-grid">
      {props.keys.map((key, i) => {
        const h = histories[i];
        if (h?.error) return <ErrorNotice key={key} error={h.error} title={`${key}:`} />;
        if (h?.data === undefined) return <p key={key}>Loading {key}…</p>;
        return (
          <MetricChart
            key={key}
            title={key}
            series={[{ name: props.runName, points: h.data }]}
            settings={props.settings}
          />
        );
      })}
    </div>
  );
}

function KeyValueSection(props: { readonly title: string; readonly values: Readonly<Record<string, string>> }) {
  const entries = Object.entries(props.values).sort((a, b) => a[0].localeCompare(b[0]));
  const id = `${props.title.toLowerCase()}-heading`;
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{props.title}</h2>
      {entries.length === 0 ? (
        <p>None.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {entries.map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td className="wrap">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
