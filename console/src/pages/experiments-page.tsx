/** Experiments with a name search; open one (or several together) in the runs table. */
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useLocation } from "wouter";
import { useClients } from "../api/console-clients.js";
import { ErrorNotice } from "../components/error-notice.js";
import { usePageTitle } from "../components/page-title.js";
import { ListFooter, NameSearch } from "../components/paged-list.js";
import { useDebounced } from "../components/use-debounced.js";
import { nameContains } from "../lib/filter-text.js";
import { formatTime } from "../lib/format.js";
import { toggled } from "../lib/toggled.js";

/** The experiments page. */
export function ExperimentsPage() {
  usePageTitle("Experiments");
  const { tracking } = useClients();
  const [, navigate] = useLocation();
  const [search, setSearch] = useState("");
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const filter = nameContains(useDebounced(search, 250));
  const query = useInfiniteQuery({
    queryKey: ["experiments", filter],
    initialPageParam: "",
    queryFn: ({ pageParam, signal }) =>
      tracking.searchExperiments({ filter, maxResults: 100, orderBy: ["name ASC"], pageToken: pageParam }, { signal }),
    getNextPageParam: (last) => (last.nextPageToken === "" ? undefined : last.nextPageToken),
  });
  const experiments = query.data?.pages.flatMap((p) => p.experiments) ?? [];
  return (
    <section>
      <h1>Experiments</h1>
      <div className="toolbar">
        <NameSearch value={search} onChange={setSearch} />
        <button
          type="button"
          disabled={selected.size === 0}
          onClick={() => navigate(`/runs?${[...selected].map((id) => `e=${encodeURIComponent(id)}`).join("&")}`)}
        >
          Show runs of selected ({selected.size})
        </button>
      </div>
      {query.error ? <ErrorNotice error={query.error} /> : null}
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Experiments</caption>
          <thead>
            <tr>
              <th scope="col">
                <span className="visually-hidden">Select</span>
              </th>
              <th scope="col">Name</th>
              <th scope="col">ID</th>
              <th scope="col">Created</th>
              <th scope="col">Last update</th>
              <th scope="col">Tags</th>
            </tr>
          </thead>
          <tbody>
            {experiments.map((e) => (
              <tr key={e.experimentId}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select experiment ${e.name}`}
                    checked={selected.has(e.experimentId)}
                    onChange={() => setSelected(toggled(selected, e.experimentId))}
                  />
                </td>
                <td>
                  <Link href={`/runs?e=${encodeURIComponent(e.experimentId)}`}>{e.name}</Link>
                </td>
                <td>{e.experimentId}</td>
                <td>{formatTime(e.creationTime)}</td>
                <td>{formatTime(e.lastUpdateTime)}</td>
                <td>
                  {Object.entries(e.tags).map(([k, v]) => (
                    <span className="chip" key={k}>
                      {k}={v}
                    </span>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ListFooter query={query} count={experiments.length} noun="experiment" />
    </section>
  );
}
