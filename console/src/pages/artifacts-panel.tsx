/**
 * A run's artifacts: a directory at a time (breadcrumb to go up), each file with its size and
 * SHA-256, a preview of text, JSON and images (the first MiB), and a download checked against the
 * SHA-256 the server announced.
 */
import { useQuery } from "@tanstack/react-query";
import { type ReactNode, useEffect, useState } from "react";
import { readArtifact, sha256Hex } from "../api/artifact-download.js";
import { useClients } from "../api/console-clients.js";
import { ErrorNotice, errorText } from "../components/error-notice.js";
import { formatBytes, imageType, previewBytes, previewKind } from "../lib/artifact-preview.js";

/** The artifacts browser of run `runId`. */
export function ArtifactsPanel(props: { readonly runId: string }) {
  const { tracking } = useClients();
  const [dir, setDir] = useState("");
  const [previewed, setPreviewed] = useState<string | undefined>(undefined);
  const [status, setStatus] = useState("");
  const listing = useQuery({
    queryKey: ["artifacts", props.runId, dir],
    queryFn: ({ signal }) => tracking.listArtifacts({ runId: props.runId, path: dir }, { signal }),
  });
  const segments = dir === "" ? [] : dir.split("/");

  const download = async (path: string, expectedSha256: string) => {
    setStatus(`Downloading ${path}…`);
    try {
      const content = await readArtifact(
        tracking,
        props.runId,
        path,
        Number.MAX_SAFE_INTEGER,
        new AbortController().signal,
      );
      const actual = await sha256Hex(content.bytes);
      if (actual !== undefined && expectedSha256 !== "" && actual !== expectedSha256) {
        setStatus(`${path}: the downloaded content does not match its SHA-256; nothing was saved.`);
        return;
      }
      const url = URL.createObjectURL(new Blob([content.bytes]));
      const a = document.createElement("a");
      a.href = url;
      a.download = path.split("/").at(-1) ?? "artifact";
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setStatus(
        `Downloaded ${path} (${formatBytes(content.bytes.length)}${actual === undefined ? "" : ", SHA-256 checked"}).`,
      );
    } catch (err) {
      setStatus(`${path}: ${errorText(err)}`);
    }
  };

  return (
    <div className="artifacts">
      <nav aria-label="Artifact folders" className="breadcrumb">
        <button
          type="button"
          className="link-button"
          onClick={() => setDir("")}
          aria-current={dir === "" ? "page" : undefined}
        >
          (root)
        </button>
        {segments.map((s, i) => {
          const path = segments.slice(0, i + 1).join("/");
          return (
            <span key={path}>
              {" / "}
              <button
                type="button"
                className="link-button"
                onClick={() => setDir(path)}
                aria-current={path === dir ? "page" : undefined}
              >
                {s}
              </button>
            </span>
          );
        })}
      </nav>
      {listing.error ? <ErrorNotice error={listing.error} /> : null}
      {listing.data?.files.length === 0 ? <p>No artifact here.</p> : null}
      {listing.data && listing.data.files.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Artifacts in {dir === "" ? "the root folder" : dir}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Size</th>
                <th scope="col">SHA-256</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {listing.data.files.map((f) => {
                const name = f.path.split("/").at(-1) ?? f.path;
                return (
                  <tr key={f.path}>
                    <th scope="row">
                      {f.isDir ? (
                        <button type="button" className="link-button" onClick={() => setDir(f.path)}>
                          {name}/
                        </button>
                      ) : (
                        name
                      )}
                    </th>
                    <td>{f.isDir ? "—" : formatBytes(Number(f.fileSize))}</td>
                    <td>{f.isDir ? "—" : <code title={f.sha256}>{f.sha256.slice(0, 12)}…</code>}</td>
                    <td>
                      {f.isDir ? null : (
                        <>
                          {previewKind(f.path) === "none" ? null : (
                            <button type="button" onClick={() => setPreviewed(f.path)} aria-label={`Preview ${name}`}>
                              Preview
                            </button>
                          )}{" "}
                          <button
                            type="button"
                            onClick={() => download(f.path, f.sha256)}
                            aria-label={`Download ${name}`}
                          >
                            Download
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      <p aria-live="polite" className="hint">
        {status}
      </p>
      {previewed === undefined ? null : (
        <ArtifactPreview runId={props.runId} path={previewed} onClose={() => setPreviewed(undefined)} />
      )}
    </div>
  );
}

/** The first MiB of a file, as text, JSON or an image. */
function ArtifactPreview(props: { readonly runId: string; readonly path: string; readonly onClose: () => void }) {
  const { tracking } = useClients();
  const kind = previewKind(props.path);
  const content = useQuery({
    queryKey: ["artifact-preview", props.runId, props.path],
    queryFn: ({ signal }) => readArtifact(tracking, props.runId, props.path, previewBytes, signal),
  });
  const [imageUrl, setImageUrl] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (kind !== "image" || content.data === undefined) return;
    const url = URL.createObjectURL(new Blob([content.data.bytes], { type: imageType(props.path) }));
    setImageUrl(url);
    return () => URL.revokeObjectURL(url);
  }, [kind, content.data, props.path]);

  let body: ReactNode = null;
  if (content.error) body = <ErrorNotice error={content.error} />;
  else if (content.data === undefined) body = <p>Loading…</p>;
  else if (kind === "image")
    body =
      imageUrl === undefined ? null : <img src={imageUrl} alt={`Artifact ${props.path}`} className="preview-image" />;
  else {
    let text = new TextDecoder().decode(content.data.bytes);
    if (kind === "json" && !content.data.truncated) {
      try {
        text = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        // Shown as it is: a preview must not fail on a malformed file.
      }
    }
    body = <pre className="preview-text">{text}</pre>;
  }
  return (
    <section className="preview" aria-label={`Preview of ${props.path}`}>
      <header>
        <h3>{props.path}</h3>
        {content.data?.truncated ? <span className="hint">first {formatBytes(previewBytes)} shown</span> : null}
        <button type="button" onClick={props.onClose}>
          Close preview
        </button>
      </header>
      {body}
    </section>
  );
}
