/** How the console shows an error of the APIs: the status code and the server's message, as an alert. */
import { Code, ConnectError } from "@connectrpc/connect";
import { ServingError } from "../api/serving-api.js";

/** `not_found: run "abc" not found` for a ConnectError; the message otherwise. */
export function errorText(error: unknown): string {
  if (error instanceof ConnectError) {
    const code = Code[error.code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
    return `${code}: ${error.rawMessage}`;
  }
  if (error instanceof ServingError) return `${error.status}${error.id === "" ? "" : ` ${error.id}`}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** An error box announced to screen readers (role="alert"). */
export function ErrorNotice(props: { readonly error: unknown; readonly title?: string }) {
  return (
    <div className="notice notice-error" role="alert">
      {props.title === undefined ? null : <strong>{props.title} </strong>}
      {errorText(props.error)}
    </div>
  );
}
