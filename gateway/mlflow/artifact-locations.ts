/**
 * Artifact locations as the MLflow surface shows them: a location under the server's artifact
 * root (`file:///srv/mlpipe/artifacts/1/<run>/artifacts`, `s3://bucket/prefix/1/...`) is shown as
 * the proxied URI `mlflow-artifacts:/1/<run>/artifacts`, as an MLflow server started with
 * `--serve-artifacts` shows it, so that clients without credentials for the store upload and
 * download through the server (the `/api/2.0/mlflow-artifacts/artifacts/<path>` routes). A
 * location elsewhere (an experiment created with its own artifact_location) is shown as it is.
 */

/** The scheme of proxied artifact URIs. */
const scheme = "mlflow-artifacts:";

/** The route anchor that an http(s) form of a proxied artifact URI carries (MLflow accepts both). */
const httpAnchor = "/api/2.0/mlflow-artifacts/artifacts/";

/** Translation between the server's artifact URIs and their `mlflow-artifacts:` form. */
export interface ArtifactLocations {
  /** The URI shown for `uri`: `mlflow-artifacts:/<path below the root>` when under the root, else `uri`. */
  shown(uri: string): string;
  /**
   * The path below the artifact root that a proxied URI names: `mlflow-artifacts:/<path>`,
   * `mlflow-artifacts://<host>/<path>` or `http(s)://<host>/api/2.0/mlflow-artifacts/artifacts/<path>`;
   * undefined for any other URI. Not checked: the caller validates the path it resolves.
   */
  proxiedPath(uri: string): string | undefined;
  /** The server's URI of a path below the root. */
  uriOf(path: string): string;
}

/** The translation for an artifact store whose root is `rootUri` (e.g. `file:///srv/artifacts`, `s3://b/p`). */
export function createArtifactLocations(rootUri: string): ArtifactLocations {
  const root = rootUri.replace(/\/+$/, "");
  return {
    shown(uri) {
      if (!uri.startsWith(`${root}/`)) return uri;
      return `${scheme}/${uri.slice(root.length + 1).replace(/\/+$/, "")}`;
    },
    proxiedPath(uri) {
      if (uri.startsWith(scheme)) {
        let rest = uri.slice(scheme.length);
        // `mlflow-artifacts://host:port/path`: the authority names this server.
        if (rest.startsWith("//")) rest = rest.slice(rest.indexOf("/", 2) < 0 ? rest.length : rest.indexOf("/", 2));
        return rest.replace(/^\/+/, "").replace(/\/+$/, "");
      }
      if (/^https?:\/\//.test(uri) && uri.includes(httpAnchor)) {
        return uri.slice(uri.indexOf(httpAnchor) + httpAnchor.length).replace(/\/+$/, "");
      }
      return undefined;
    },
    uriOf(path) {
      return `${root}/${path}`;
    },
  };
}
