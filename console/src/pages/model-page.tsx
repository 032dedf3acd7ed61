/**
 * One registered model: where its versions are now (kept live by the Watch stream, so a promotion
 * made elsewhere shows without reload), its versions with stage, aliases, status, source run,
 * SHA-256 and signature, the actions that move them (stage, alias; each confirmed in a dialog and
 * hidden from users who may not take them), and its audit history as a timeline with "what was
 * where at" any moment.
 */
import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useId, useMemo, useState } from "react";
import { Link } from "wouter";
import {
  type ModelVersion,
  ModelVersionStatus,
  type RegistryEvent,
  Stage,
  type TensorSpec,
} from "../../../gen/mlpipe/registry/v1/registry_pb.js";
import { useClients } from "../api/console-clients.js";
import { Allowed, useModelPermission } from "../components/allowed.js";
import { ConfirmDialog } from "../components/confirm-dialog.js";
import { ErrorNotice } from "../components/error-notice.js";
import { usePageTitle } from "../components/page-title.js";
import { useModelWatch } from "../components/use-model-watch.js";
import { quoted } from "../lib/filter-text.js";
import { formatTime } from "../lib/format.js";
import { type ModelPermission, mayMoveTo, maySetAliases } from "../lib/model-permission.js";
import { stageName, stages, versionStatusName } from "../lib/registry-format.js";
import { describeEvent, type ModelSnapshot, snapshotAt, versionsByStage } from "../lib/registry-timeline.js";

/** Most history events read (10 pages). */
const maxEvents = 10_000;

/** What the open dialog does. */
type Action =
  | { readonly kind: "stage"; readonly version: bigint }
  | { readonly kind: "alias"; readonly version: bigint }
  | { readonly kind: "delete-alias"; readonly alias: string; readonly version: bigint };

/** The model page; `name` as in the URL path. */
export function ModelPage(props: { readonly name: string }) {
  // The raw path segment, decoded once: wouter's params leave %2F, %3F... encoded.
  const name = decodeSegment(window.location.pathname.split("/")[2] ?? props.name);
  usePageTitle(`Model ${name}`);
  const { registry } = useClients();
  const queryClient = useQueryClient();
  const permission = useModelPermission(name);
  const model = useQuery({
    queryKey: ["model", name],
    queryFn: ({ signal }) => registry.getRegisteredModel({ name }, { signal }),
  });
  const versions = useInfiniteQuery({
    queryKey: ["versions", name],
    initialPageParam: "",
    queryFn: ({ pageParam, signal }) =>
      registry.searchModelVersions(
        { filter: `name = ${quoted(name)}`, orderBy: ["version DESC"], maxResults: 100, pageToken: pageParam },
        { signal },
      ),
    getNextPageParam: (last) => (last.nextPageToken === "" ? undefined : last.nextPageToken),
  });
  const events = useQuery({
    queryKey: ["events", name],
    queryFn: async ({ signal }) => {
      const all: RegistryEvent[] = [];
      let pageToken = "";
      do {
        const page = await registry.listRegistryEvents({ name, maxResults: 1000, pageToken }, { signal });
        all.push(...page.events);
        pageToken = page.nextPageToken;
      } while (pageToken !== "" && all.length < maxEvents);
      return all;
    },
  });
  const refresh = useCallback(() => {
    for (const key of ["model", "versions", "events"]) void queryClient.invalidateQueries({ queryKey: [key, name] });
  }, [queryClient, name]);
  const watch = useModelWatch(name, refresh);
  const [action, setAction] = useState<Action | undefined>(undefined);

  if (model.error) {
    return (
      <section>
        <h1>Model {name}</h1>
        <ErrorNotice error={model.error} />
      </section>
    );
  }
  const allVersions = versions.data?.pages.flatMap((p) => p.modelVersions) ?? [];
  const description = model.data?.registeredModel?.description ?? "";
  return (
    <article>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href="/models">Models</Link> / <span aria-current="page">{name}</span>
      </nav>
      <div className="title-row">
        <h1>Model {name}</h1>
        <span className={`live live-${watch.status}`} role="status">
          {watch.status === "live"
            ? "Live"
            : watch.status === "ended"
              ? "Not watching"
              : watch.status === "reconnecting"
                ? "Reconnecting…"
                : "Connecting…"}
        </span>
      </div>
      {description === "" ? null : <p>{description}</p>}

      <section aria-labelledby="now-heading">
        <h2 id="now-heading">Now</h2>
        {watch.snapshot === undefined ? (
          <p>Loading…</p>
        ) : (
          <SnapshotView
            snapshot={watch.snapshot}
            onDeleteAlias={
              maySetAliases(permission)
                ? (alias, version) => setAction({ kind: "delete-alias", alias, version })
                : undefined
            }
          />
        )}
      </section>

      <section aria-labelledby="versions-heading">
        <h2 id="versions-heading">Versions</h2>
        {versions.error ? <ErrorNotice error={versions.error} /> : null}
        <VersionsTable versions={allVersions} permission={permission} onAction={setAction} />
        {versions.hasNextPage ? (
          <button type="button" onClick={() => versions.fetchNextPage()}>
            Load more versions
          </button>
        ) : null}
      </section>

      <section aria-labelledby="history-heading">
        <h2 id="history-heading">History</h2>
        {events.error ? <ErrorNotice error={events.error} /> : null}
        {events.data === undefined ? null : <History events={events.data} />}
      </section>

      <ActionDialog
        name={name}
        action={action}
        versions={allVersions}
        permission={permission}
        onClose={() => setAction(undefined)}
        onDone={refresh}
      />
    </article>
  );
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Versions per stage and aliases of a snapshot. */
function SnapshotView(props: {
  readonly snapshot: ModelSnapshot;
  /** Undefined: no delete buttons (a past snapshot, or a user who may not change aliases). */
  readonly onDeleteAlias?: ((alias: string, version: bigint) => void) | undefined;
}) {
  const byStage = versionsByStage(props.snapshot);
  const aliases = [...props.snapshot.aliases].sort((a, b) => a[0].localeCompare(b[0]));
  const onDelete = props.onDeleteAlias;
  return (
    <div className="stage-cards">
      {[Stage.PRODUCTION, Stage.STAGING, Stage.NONE, Stage.ARCHIVED].map((stage) => {
        const list = byStage.get(stage) ?? [];
        return (
          <div key={stage} className={`stage-card stage-${stageName(stage).toLowerCase()}`}>
            <h3>{stageName(stage)}</h3>
            <p>{list.length === 0 ? "—" : list.map((v) => `v${v}`).join(", ")}</p>
          </div>
        );
      })}
      <div className="stage-card">
        <h3>Aliases</h3>
        {aliases.length === 0 ? <p>—</p> : null}
        <ul className="plain">
          {aliases.map(([alias, version]) => (
            <li key={alias}>
              <span className="chip">
                @{alias} → v{String(version)}
              </span>
              {onDelete === undefined ? null : (
                <button
                  type="button"
                  className="link-button"
                  onClick={() => onDelete(alias, version)}
                  aria-label={`Delete alias ${alias}`}
                >
                  delete
                </button>
              )}
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}

function tensorText(t: TensorSpec): string {
  if (!t.isTensor) return `${t.name} (not a tensor)`;
  const dims = t.shape.map((d) =>
    d.value.case === "size" ? String(d.value.value) : d.value.case === "param" ? d.value.value : "?",
  );
  return `${t.name} ${t.elementType} [${dims.join(", ")}]`;
}

function VersionsTable(props: {
  readonly versions: readonly ModelVersion[];
  readonly permission: ModelPermission;
  readonly onAction: (a: Action) => void;
}) {
  const mayStage = stages.some((s) => mayMoveTo(props.permission, s));
  return (
    <div className="table-wrap">
      <table className="versions-table">
        <caption className="visually-hidden">Versions, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Stage</th>
            <th scope="col">Aliases</th>
            <th scope="col">Status</th>
            <th scope="col">Registered</th>
            <th scope="col">Source run</th>
            <th scope="col">SHA-256</th>
            <th scope="col">Signature</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {props.versions.map((v) => {
            const ready = v.status === ModelVersionStatus.READY;
            return (
              <tr key={String(v.version)}>
                <th scope="row">v{String(v.version)}</th>
                <td>
                  <span className={`stage-badge stage-${stageName(v.currentStage).toLowerCase()}`}>
                    {stageName(v.currentStage)}
                  </span>
                </td>
                <td>
                  {v.aliases.map((a) => (
                    <span className="chip" key={a}>
                      @{a}
                    </span>
                  ))}
                </td>
                <td title={v.statusMessage}>{versionStatusName(v.status)}</td>
                <td>
                  {formatTime(v.creationTime)}
                  <br />
                  <span className="muted">by {v.createdBy || "anonymous"}</span>
                </td>
                <td>
                  {v.runId === "" ? (
                    <code className="wrap">{v.source}</code>
                  ) : (
                    <Link href={`/runs/${encodeURIComponent(v.runId)}`}>{v.runId.slice(0, 8)}…</Link>
                  )}
                </td>
                <td>
                  {v.artifactSha256 === "" ? (
                    "—"
                  ) : (
                    <code title={v.artifactSha256}>{v.artifactSha256.slice(0, 12)}…</code>
                  )}
                </td>
                <td className="signature">
                  {v.signature === undefined ? (
                    "—"
                  ) : (
                    <>
                      <div>in: {v.signature.inputs.map(tensorText).join("; ")}</div>
                      <div>out: {v.signature.outputs.map(tensorText).join("; ")}</div>
                    </>
                  )}
                </td>
                <td>
                  {ready ? (
                    <div className="actions">
                      <Allowed allowed={mayStage}>
                        <button
                          type="button"
                          onClick={() => props.onAction({ kind: "stage", version: v.version })}
                          aria-label={`Change stage of version ${v.version}`}
                        >
                          Stage…
                        </button>
                      </Allowed>
                      <Allowed allowed={maySetAliases(props.permission)}>
                        <button
                          type="button"
                          onClick={() => props.onAction({ kind: "alias", version: v.version })}
                          aria-label={`Set an alias on version ${v.version}`}
                        >
                          Alias…
                        </button>
                      </Allowed>
                    </div>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The confirmation dialog of the chosen action, with its fields. */
function ActionDialog(props: {
  readonly name: string;
  readonly action: Action | undefined;
  readonly versions: readonly ModelVersion[];
  readonly permission: ModelPermission;
  readonly onClose: () => void;
  readonly onDone: () => void;
}) {
  const { registry } = useClients();
  const { action, name } = props;
  // Only the stages the user may move to are offered (Production may need more than the others).
  const offered = stages.filter((s) => mayMoveTo(props.permission, s));
  const [chosen, setStage] = useState<Stage>(Stage.PRODUCTION);
  const stage = offered.includes(chosen) ? chosen : (offered[0] ?? chosen);
  const [archive, setArchive] = useState(true);
  const [alias, setAlias] = useState("");
  const stageId = useId();
  const aliasId = useId();
  const current = props.versions.find((v) => action !== undefined && v.version === action.version);

  if (action?.kind === "stage") {
    const archivable = stage === Stage.STAGING || stage === Stage.PRODUCTION;
    const others = props.versions.filter((v) => v.currentStage === stage && v.version !== action.version);
    return (
      <ConfirmDialog
        open
        title={`Change the stage of ${name} version ${action.version}`}
        confirmLabel={`Move to ${stageName(stage)}`}
        onClose={props.onClose}
        invalid={
          current?.currentStage === stage ? `Version ${action.version} is already in ${stageName(stage)}.` : undefined
        }
        onConfirm={async () => {
          await registry.transitionModelVersionStage({
            name,
            version: action.version,
            stage,
            archiveExistingVersions: archivable && archive,
          });
          props.onDone();
        }}
      >
        <p>
          Now in <strong>{stageName(current?.currentStage ?? Stage.UNSPECIFIED)}</strong>. Inference servers following
          the new stage load this version without a restart.
        </p>
        <label htmlFor={stageId}>New stage</label>
        <select id={stageId} value={stage} onChange={(e) => setStage(Number(e.target.value) as Stage)}>
          {offered.map((s) => (
            <option key={s} value={s}>
              {stageName(s)}
            </option>
          ))}
        </select>
        {archivable ? (
          <label className="check">
            <input type="checkbox" checked={archive} onChange={(e) => setArchive(e.target.checked)} />
            Archive the other versions in {stageName(stage)}
            {others.length > 0 ? ` (${others.map((v) => `v${v.version}`).join(", ")})` : " (none now)"}
          </label>
        ) : null}
      </ConfirmDialog>
    );
  }
  if (action?.kind === "alias") {
    const trimmed = alias.trim();
    const invalid =
      trimmed === ""
        ? "Name the alias."
        : !/^[A-Za-z0-9_-]{1,255}$/.test(trimmed)
          ? "Letters, digits, _ and - only."
          : undefined;
    return (
      <ConfirmDialog
        open
        title={`Set an alias on ${name} version ${action.version}`}
        confirmLabel="Set alias"
        onClose={props.onClose}
        invalid={invalid}
        onConfirm={async () => {
          await registry.setRegisteredModelAlias({ name, alias: trimmed, version: action.version });
          props.onDone();
        }}
      >
        <p>An alias that points at another version moves to this one.</p>
        <label htmlFor={aliasId}>Alias</label>
        <input
          id={aliasId}
          value={alias}
          onChange={(e) => setAlias(e.target.value)}
          placeholder="champion"
          autoComplete="off"
        />
      </ConfirmDialog>
    );
  }
  if (action?.kind === "delete-alias") {
    return (
      <ConfirmDialog
        open
        title={`Delete alias @${action.alias}`}
        confirmLabel="Delete alias"
        onClose={props.onClose}
        onConfirm={async () => {
          await registry.deleteRegisteredModelAlias({ name, alias: action.alias });
          props.onDone();
        }}
      >
        <p>
          @{action.alias} points at version {String(action.version)}. Inference servers following @{action.alias} keep
          serving what they have loaded until it points somewhere again.
        </p>
      </ConfirmDialog>
    );
  }
  return null;
}

/** The audit history, newest first, and the model as it was at a chosen moment. */
function History(props: { readonly events: readonly RegistryEvent[] }) {
  const [at, setAt] = useState("");
  const atId = useId();
  const atMs = at === "" ? undefined : new Date(at).getTime();
  const snapshot = useMemo(
    () => (atMs === undefined || Number.isNaN(atMs) ? undefined : snapshotAt(props.events, BigInt(atMs))),
    [props.events, atMs],
  );
  const newestFirst = useMemo(() => [...props.events].reverse(), [props.events]);
  return (
    <>
      <div className="toolbar">
        <label htmlFor={atId}>What was where at</label>
        <input id={atId} type="datetime-local" step={1} value={at} onChange={(e) => setAt(e.target.value)} />
        {at === "" ? null : (
          <button type="button" onClick={() => setAt("")}>
            Clear
          </button>
        )}
      </div>
      {snapshot === undefined ? null : snapshot.exists ? (
        <SnapshotView snapshot={snapshot} />
      ) : (
        <p>The model did not exist then.</p>
      )}
      <ol className="timeline" aria-label="Registry events, newest first">
        {newestFirst.map((e) => (
          <li key={String(e.sequence)} className={atMs !== undefined && Number(e.time) > atMs ? "after" : undefined}>
            <time dateTime={new Date(Number(e.time)).toISOString()}>{formatTime(e.time)}</time>
            <span className="event-text">{describeEvent(e)}</span>
            <span className="muted">by {e.actor}</span>
          </li>
        ))}
      </ol>
    </>
  );
}
