/**
 * The sign-in form shown when the registry requires a token: paste an API token (`mlpipe tokens
 * create`), verified with WhoAmI before it is kept for this tab (api/console-session.ts).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { type FormEvent, useId, useState } from "react";
import { useClients } from "../api/console-clients.js";
import { ErrorNotice } from "./error-notice.js";
import { usePageTitle } from "./page-title.js";

/** What a refused token means to the user; other errors are shown as the registry said them. */
function signInError(error: unknown): unknown {
  if (error instanceof ConnectError && error.code === Code.Unauthenticated) {
    return new Error(`This token is not accepted: ${error.rawMessage}`);
  }
  return error;
}

/** The sign-in form; `notice` says why the user has to sign in (again). */
export function SignInForm(props: { readonly notice?: string | undefined }) {
  usePageTitle("Sign in");
  const { auth, session } = useClients();
  const [token, setToken] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const tokenId = useId();
  const helpId = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const trimmed = token.trim();
    if (trimmed === "") {
      setError(new Error("Paste an API token."));
      return;
    }
    setPending(true);
    setError(undefined);
    try {
      await session.signIn(auth, trimmed);
    } catch (err) {
      setError(signInError(err));
      setPending(false);
    }
  }

  return (
    <section className="sign-in">
      <h1>Sign in</h1>
      {props.notice === undefined ? null : (
        <p className="notice" role="status">
          {props.notice}
        </p>
      )}
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor={tokenId}>API token</label>
        <input
          id={tokenId}
          type="password"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          autoComplete="off"
          spellCheck={false}
          aria-describedby={helpId}
          // biome-ignore lint/a11y/noAutofocus: the form is the page's only content
          autoFocus
        />
        <p id={helpId} className="hint">
          An API token from your administrator (<code>mlpipe tokens create</code>). It is kept in this tab only, until
          you sign out or close it.
        </p>
        <button type="submit" disabled={pending}>
          {pending ? "Signing in…" : "Sign in"}
        </button>
      </form>
      {error === undefined ? null : <ErrorNotice error={error} />}
    </section>
  );
}
