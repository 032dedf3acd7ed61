/**
 * What the searchable lists (experiments, models) share: the name search box and the footer that
 * says the list is loading or empty and loads the next page of a TanStack infinite query.
 */
import { useId } from "react";

/** A search box labelled "Search by name". */
export function NameSearch(props: { readonly value: string; readonly onChange: (value: string) => void }) {
  const id = useId();
  return (
    <>
      <label htmlFor={id}>Search by name</label>
      <input id={id} type="search" value={props.value} onChange={(e) => props.onChange(e.target.value)} />
    </>
  );
}

/** The state of an infinite query, as the footer reads it. */
export interface PagedQueryState {
  readonly isPending: boolean;
  readonly isSuccess: boolean;
  readonly hasNextPage: boolean;
  readonly isFetchingNextPage: boolean;
  fetchNextPage(): unknown;
}

/** "Loading…", "No … matches." or a "Load more" button under a list of `count` items. */
export function ListFooter(props: { readonly query: PagedQueryState; readonly count: number; readonly noun: string }) {
  const { query } = props;
  return (
    <>
      {query.isPending ? <p aria-live="polite">Loading {props.noun}s…</p> : null}
      {query.isSuccess && props.count === 0 ? <p>No {props.noun} matches.</p> : null}
      {query.hasNextPage ? (
        <button type="button" onClick={() => query.fetchNextPage()} disabled={query.isFetchingNextPage}>
          Load more
        </button>
      ) : null}
    </>
  );
}
