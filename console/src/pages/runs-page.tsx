/**
 * The runs table of one or more experiments (`/runs?e=1&e=2`): the SearchRuns filter language with
 * errors shown where the server points, sorting on any column (server-side, so it holds across
 * pages), a column chooser for metrics, params and tags, keyset paging (the server's page tokens:
 * each page costs the same at run 100,000 as at run 1), and a selection of runs to compare.
 * Everything but the page position and the selection lives in the URL.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { keepPreviousData, useQueries, useQuery } from "@tanstack/react-query";
import { type FormEvent, useEffect, useId, useMemo, useRef, useState } from "react";
import { Link, useLocation, useSearchParams } from "wouter";
import type { Run } from "../../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { useClients } from "../api/console-clients.js";
import { experimentQuery, pageSizes, readRunsView, runsPageQuery, viewKey } from "../api/runs-query.js";
import { ErrorNotice } from "../components/error-notice.js";
import { FilterErrorView } from "../components/filter-error-view.js";
import { usePageTitle } from "../components/page-title.js";
import { formatDuration, formatTime, formatValue, runStatusName } from "../lib/format.js";
import {
  attributeSorts,
  type ColumnKind,
  cellValue,
  collectKeys,
  columnId,
  defaultColumns,
  parseColumnId,
  type RunColumn,
} from "../lib/run-columns.js";

/** Most runs the Compare page takes. */
export const maxCompared = 20;

/** The performance mark the runs-page benchmark reads (bench/console-runs-page.ts). */
export const firstPageMark = "mlpipe:runs-first-page";

/** The runs page. */
export function RunsPage() {
  const { tracking } = useClients();
  const [, navigate] = useLocation();
  const [params, setParams] = useSearchParams();
  const view = useMemo(() => readRunsView(params), [params]);
  const { experimentIds, filter, sort, descending, pageSize } = view;
  const chosen = view.columns;

  const update = (changes: Record<string, string | undefined>) =>
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      for (const [k, v] of Object.entries(changes)) {
        if (v === undefined || v === "") next.delete(k);
        else next.set(k, v);
      }
      return next;
    });

  // Keyset paging: the tokens of the pages seen so far, reset whenever the query changes.
  const queryKey = viewKey(view);
  const [paging, setPaging] = useState({ key: queryKey, tokens: [""] });
  const tokens = paging.key === queryKey ? paging.tokens : [""];
  const page = tokens.length - 1;

  const experiments = useQueries({ queries: experimentIds.map((id) => experimentQuery(tracking, id)) });
  const names = new Map(experiments.map((q, i) => [experimentIds[i] ?? "", q.data?.experiment?.name ?? ""]));
  const title = experimentIds.length === 1 ? `Runs of ${names.get(experimentIds[0] ?? "") || "…"}` : "Runs";
  usePageTitle(title);

  const runs = useQuery({
    ...runsPageQuery(tracking, view, tokens.at(-1) ?? ""),
    enabled: experimentIds.length > 0,
    placeholderData: keepPreviousData,
  });
  const rows = runs.data?.runs ?? [];

  const keys = useMemo(() => collectKeys(rows), [rows]);
  const columns: RunColumn[] = useMemo(() => {
    if (chosen === null) return defaultColumns(keys);
    return chosen
      .split(",")
      .map(parseColumnId)
      .filter((c): c is RunColumn => c !== undefined);
  }, [chosen, keys]);

  const marked = useRef(false);
  useEffect(() => {
    if (!marked.current && runs.isSuccess && !runs.isPlaceholderData) {
      marked.current = true;
      performance.mark(firstPageMark);
    }
  }, [runs.isSuccess, runs.isPlaceholderData]);

  const [selected, setSelected] = useState<ReadonlyMap<string, string>>(new Map());
  const toggle = (run: Run) => {
    const id = run.info?.runId ?? "";
    const next = new Map(selected);
    if (!next.delete(id)) next.set(id, run.info?.runName ?? id);
    setSelected(next);
  };

  const filterError =
    runs.error instanceof ConnectError && runs.error.code === Code.InvalidArgument ? runs.error : undefined;

  if (experimentIds.length === 0) {
    return (
      <section>
        <h1>Runs</h1>
        <p>
          Choose an experiment on the <Link href="/experiments">experiments page</Link>.
        </p>
      </section>
    );
  }

  const sortBy = (id: string, defaultDescending: boolean) => {
    if (sort === id) update({ dir: descending ? "asc" : "desc" });
    else update({ sort: id, dir: defaultDescending ? "desc" : "asc" });
  };

  return (
    <section>
      <h1>{title}</h1>
      {experimentIds.length > 1 ? (
        <p>Experiments: {experimentIds.map((id) => names.get(id) || id).join(", ")}</p>
      ) : null}
      <FilterForm filter={filter} error={filterError} onApply={(f) => update({ filter: f })} />
      <div className="toolbar">
        <ColumnChooser
          keys={keys}
          columns={columns}
          onChange={(cols) => update({ cols: cols.map(columnId).join(",") })}
        />
        <button
          type="button"
          className="primary"
          disabled={selected.size < 2 || selected.size > maxCompared}
          onClick={() => navigate(`/compare?runs=${[...selected.keys()].map(encodeURIComponent).join(",")}`)}
        >
          Compare selected ({selected.size})
        </button>
        {selected.size > maxCompared ? <span className="hint">Compare takes at most {maxCompared} runs.</span> : null}
        {selected.size > 0 ? (
          <button type="button" onClick={() => setSelected(new Map())}>
            Clear selection
          </button>
        ) : null}
      </div>
      {runs.error && filterError === undefined ? <ErrorNotice error={runs.error} /> : null}
      <div className="table-wrap" aria-busy={runs.isFetching}>
        <table className="runs-table">
          <caption className="visually-hidden">
            Runs, page {page + 1}, sorted by {sort} {descending ? "descending" : "ascending"}
          </caption>
          <thead>
            <tr>
              <th scope="col">
                <span className="visually-hidden">Select for comparison</span>
              </th>
              <SortHeader label="Run" id={attributeSorts.name} sort={sort} descending={descending} onSort={sortBy} />
              <SortHeader
                label="Status"
                id={attributeSorts.status}
                sort={sort}
                descending={descending}
                onSort={sortBy}
              />
              <SortHeader
                label="Started"
                id={attributeSorts.started}
                sort={sort}
                descending={descending}
                onSort={sortBy}
                defaultDescending
              />
              <th scope="col">Duration</th>
              {experimentIds.length > 1 ? <th scope="col">Experiment</th> : null}
              {columns.map((c) => (
                <SortHeader
                  key={columnId(c)}
                  label={c.key}
                  kind={c.kind}
                  id={columnId(c)}
                  sort={sort}
                  descending={descending}
                  onSort={sortBy}
                  defaultDescending={c.kind === "metrics"}
                />
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((run) => {
              const info = run.info;
              const id = info?.runId ?? "";
              const end = info?.endTime;
              return (
                <tr key={id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select run ${info?.runName ?? id} for comparison`}
                      checked={selected.has(id)}
                      onChange={() => toggle(run)}
                    />
                  </td>
                  <td>
                    <Link href={`/runs/${encodeURIComponent(id)}`}>{info?.runName || id}</Link>
                  </td>
                  <td>
                    <span className={`status status-${runStatusName(info?.status ?? 0).toLowerCase()}`}>
                      {runStatusName(info?.status ?? 0)}
                    </span>
                  </td>
                  <td>{formatTime(info?.startTime ?? 0n)}</td>
                  <td>{end === undefined ? "—" : formatDuration(Number(end - (info?.startTime ?? 0n)))}</td>
                  {experimentIds.length > 1 ? (
                    <td>{names.get(info?.experimentId ?? "") ?? info?.experimentId}</td>
                  ) : null}
                  {columns.map((c) => {
                    const v = cellValue(run, c);
                    return (
                      <td key={columnId(c)} className={c.kind === "metrics" ? "num" : undefined}>
                        {v === undefined ? "—" : typeof v === "number" ? formatValue(v) : v}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {runs.isPending ? <p aria-live="polite">Loading runs…</p> : null}
      {runs.isSuccess && rows.length === 0 ? <p>No run matches.</p> : null}
      <nav className="pager" aria-label="Pages of runs">
        <button
          type="button"
          disabled={page === 0 || runs.isFetching}
          onClick={() => setPaging({ key: queryKey, tokens: tokens.slice(0, -1) })}
        >
          Previous page
        </button>
        <span aria-live="polite">Page {page + 1}</span>
        <button
          type="button"
          disabled={!runs.data?.nextPageToken || runs.isFetching || runs.isPlaceholderData}
          onClick={() => setPaging({ key: queryKey, tokens: [...tokens, runs.data?.nextPageToken ?? ""] })}
        >
          Next page
        </button>
        <label>
          Runs per page{" "}
          <select value={pageSize} onChange={(e) => update({ size: e.target.value })}>
            {pageSizes.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </nav>
    </section>
  );
}

/** The filter box: applied on submit, with the server's error under it. */
function FilterForm(props: {
  readonly filter: string;
  readonly error: ConnectError | undefined;
  readonly onApply: (f: string) => void;
}) {
  const [draft, setDraft] = useState(props.filter);
  const inputId = useId();
  const errorId = useId();
  const helpId = useId();
  useEffect(() => setDraft(props.filter), [props.filter]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    props.onApply(draft.trim());
  };
  return (
    <search>
      <form className="filter-form" onSubmit={submit}>
        <label htmlFor={inputId}>Filter</label>
        <input
          id={inputId}
          type="text"
          spellCheck={false}
          value={draft}
          placeholder="metrics.accuracy > 0.9 AND params.lr = '0.1'"
          aria-invalid={props.error !== undefined}
          aria-describedby={props.error === undefined ? helpId : `${errorId} ${helpId}`}
          onChange={(e) => setDraft(e.target.value)}
        />
        <button type="submit">Apply</button>
        <p id={helpId} className="hint">
          Same language as SearchRuns: <code>metrics.</code>, <code>params.</code>, <code>tags.</code>,{" "}
          <code>run_name</code>, <code>status</code>; <code>= != &lt; &gt; LIKE ILIKE IN</code>; <code>AND</code>,{" "}
          <code>OR</code>, parentheses.
        </p>
        {props.error === undefined ? null : (
          <FilterErrorView id={errorId} filter={props.filter} message={props.error.rawMessage} />
        )}
      </form>
    </search>
  );
}

/** A column header that sorts the table (server-side) when activated. */
function SortHeader(props: {
  readonly label: string;
  readonly kind?: ColumnKind;
  readonly id: string;
  readonly sort: string;
  readonly descending: boolean;
  readonly defaultDescending?: boolean;
  readonly onSort: (id: string, defaultDescending: boolean) => void;
}) {
  const active = props.sort === props.id;
  return (
    <th scope="col" aria-sort={active ? (props.descending ? "descending" : "ascending") : undefined}>
      <button
        type="button"
        className="sort-button"
        onClick={() => props.onSort(props.id, props.defaultDescending ?? false)}
      >
        {props.kind === undefined ? null : <span className={`kind kind-${props.kind}`}>{props.kind.slice(0, -1)}</span>}
        {props.label}
        <span aria-hidden="true">{active ? (props.descending ? " ▼" : " ▲") : ""}</span>
      </button>
    </th>
  );
}

/** Checkboxes for the metric, param and tag columns of the current page. */
function ColumnChooser(props: {
  readonly keys: Record<ColumnKind, string[]>;
  readonly columns: readonly RunColumn[];
  readonly onChange: (columns: RunColumn[]) => void;
}) {
  const shown = new Set(props.columns.map(columnId));
  const all: RunColumn[] = [
    ...props.columns,
    ...(["metrics", "params", "tags"] as const).flatMap((kind) =>
      props.keys[kind].map((key) => ({ kind, key })).filter((c) => !shown.has(columnId(c))),
    ),
  ];
  const toggle = (c: RunColumn) => {
    const id = columnId(c);
    props.onChange(shown.has(id) ? props.columns.filter((x) => columnId(x) !== id) : [...props.columns, c]);
  };
  return (
    <details className="column-chooser">
      <summary>Columns ({props.columns.length})</summary>
      <div className="column-groups">
        {(["metrics", "params", "tags"] as const).map((kind) => {
          const items = all.filter((c) => c.kind === kind);
          return (
            <fieldset key={kind}>
              <legend>{kind === "metrics" ? "Metrics (latest value)" : kind === "params" ? "Params" : "Tags"}</legend>
              {items.length === 0 ? <p className="hint">none on this page</p> : null}
              {items.map((c) => (
                <label key={columnId(c)} className="check">
                  <input type="checkbox" checked={shown.has(columnId(c))} onChange={() => toggle(c)} />
                  {c.key}
                </label>
              ))}
            </fieldset>
          );
        })}
      </div>
    </details>
  );
}
