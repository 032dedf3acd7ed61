/** An invalid search filter shown with a caret under the character the server named. */
import { filterErrorLocation } from "../lib/filter-error.js";

/** Props of {@link FilterErrorView}. */
export interface FilterErrorViewProps {
  readonly id: string;
  readonly filter: string;
  /** The server's message (ConnectError.rawMessage). */
  readonly message: string;
}

/** The error, pointing into the filter when the message names a position. */
export function FilterErrorView(props: FilterErrorViewProps) {
  const location = filterErrorLocation(props.message);
  return (
    <div id={props.id} className="notice notice-error" role="alert">
      {location === undefined ? (
        props.message
      ) : (
        <>
          <p>
            Invalid filter at position {location.position}: {location.reason}
          </p>
          <pre className="filter-caret" aria-hidden="true">
            {props.filter}
            {"\n"}
            {`${" ".repeat(Math.max(0, location.position - 1))}^`}
          </pre>
        </>
      )}
    </div>
  );
}
