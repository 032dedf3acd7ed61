/** Registered models with a name search. */
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "wouter";
import { useClients } from "../api/console-clients.js";
import { ErrorNotice } from "../components/error-notice.js";
import { usePageTitle } from "../components/page-title.js";
import { ListFooter, NameSearch } from "../components/paged-list.js";
import { useDebounced } from "../components/use-debounced.js";
import { nameContains } from "../lib/filter-text.js";
import { formatTime } from "../lib/format.js";

/** The models page. */
export function ModelsPage() {
  usePageTitle("Models");
  const { registry } = useClients();
  const [search, setSearch] = useState("");
  const filter = nameContains(useDebounced(search, 250));
  const query = useInfiniteQuery({
    queryKey: ["models", filter],
    initialPageParam: "",
    queryFn: ({ pageParam, signal }) =>
      registry.searchRegisteredModels({ filter, maxResults: 100, pageToken: pageParam }, { signal }),
    getNextPageParam: (last) => (last.nextPageToken === "" ? undefined : last.nextPageToken),
  });
  const models = query.data?.pages.flatMap((p) => p.registeredModels) ?? [];
  return (
    <section>
      <h1>Models</h1>
      <div className="toolbar">
        <NameSearch value={search} onChange={setSearch} />
      </div>
      {query.error ? <ErrorNotice error={query.error} /> : null}
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Registered models</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Aliases</th>
              <th scope="col">Last updated</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {models.map((m) => (
              <tr key={m.name}>
                <td>
                  <Link href={`/models/${encodeURIComponent(m.name)}`}>{m.name}</Link>
                </td>
                <td>
                  {Object.entries(m.aliases).map(([alias, version]) => (
                    <span className="chip" key={alias}>
                      @{alias} → v{String(version)}
                    </span>
                  ))}
                </td>
                <td>{formatTime(m.lastUpdatedTime)}</td>
                <td className="wrap">{m.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ListFooter query={query} count={models.length} noun="registered model" />
    </section>
  );
}
