import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { commonErrors } from "../core/errors/common-errors.js";
import { trackingErrors } from "../core/errors/tracking-errors.js";
import type { Logger } from "../core/logger.js";
import { validateEnum } from "../core/validation/enums.js";
import { validateExperimentId, validateRunId, validateSha256 } from "../core/validation/ids.js";
import { validateKey } from "../core/validation/keys.js";
import { validateExperimentName, validateRunName } from "../core/validation/names.js";
import { validatePageSize, validateTimestamp } from "../core/validation/numbers.js";
import { validateOrderBy, validateQueryText } from "../core/validation/query-text.js";
import { validateTag, validateTagMap } from "../core/validation/tags.js";
import { validateText } from "../core/validation/text.js";
import { validateParamValue, validateTagValue } from "../core/validation/values.js";
import {
  LifecycleStage,
  type Metric,
  MetricSchema,
  ParamSchema,
  type Run,
  type RunInfo,
  RunStatus,
  RunStatusSchema,
  TagSchema,
  type TrackingService,
  type UploadArtifactRequest,
  ViewTypeSchema,
} from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import { downloadChunks } from "../storage/blob/download-chunks.js";
import { reservedNamespaceProblem } from "../storage/blob/key-namespaces.js";
import { artifactKey, artifactKeyPrefix, validateArtifactPath } from "./artifact-path.js";
import { validateLogBatch, validateMetric } from "./log-batch-validation.js";
import { pageSizes } from "./page-sizes.js";
import { maxOrderByClauses } from "./search/run-search-spec.js";
import type { TrackingStore } from "./tracking-store.js";

/** What the tracking service needs. */
export interface TrackingServiceDeps {
  readonly store: TrackingStore;
  /** Where artifact bytes live; run artifact URIs must lie under its rootUri. */
  readonly blobs: BlobStore;
  readonly logger: Logger;
}

/** The "Default" experiment runs go to when CreateRun names none. */
const defaultExperimentId = "0";

/**
 * The transport-agnostic implementation of every RPC of mlpipe.tracking.v1.TrackingService:
 * validate the request (core/validation, log-batch-validation.ts, artifact-path.ts), call the store,
 * shape the response.
 * Errors are MlpipeErrors from the catalogue; the network edge turns them into statuses.
 */
export function createTrackingService(deps: TrackingServiceDeps): ServiceImpl<typeof TrackingService> {
  const { store, blobs, logger } = deps;
  const validateArtifactLocation = (location: string): string => validateArtifactLocationUnder(location, blobs.rootUri);

  /** The run's info, which must be active (logging, uploading). */
  async function activeRunInfo(runId: string): Promise<RunInfo> {
    const info = runInfo(await store.getRun(runId));
    if (info.lifecycleStage !== LifecycleStage.ACTIVE) throw trackingErrors.runNotActive(runId);
    return info;
  }

  return {
    async createExperiment(req) {
      const experiment = await store.createExperiment({
        name: validateExperimentName(req.name),
        artifactLocation: req.artifactLocation === "" ? undefined : validateArtifactLocation(req.artifactLocation),
        tags: validateTagMap(req.tags, "tags"),
      });
      return { experiment };
    },

    async getExperiment(req) {
      return { experiment: await store.getExperiment(validateExperimentId(req.experimentId)) };
    },

    async getExperimentByName(req) {
      return { experiment: await store.getExperimentByName(validateExperimentName(req.name)) };
    },

    async searchExperiments(req) {
      const page = await store.searchExperiments({
        filter: validateQueryText(req.filter, "filter"),
        maxResults: validatePageSize(req.maxResults, pageSizes.searchExperiments),
        orderBy: validateOrderBy(req.orderBy, undefined),
        pageToken: validateQueryText(req.pageToken, "page_token"),
        viewType: validateEnum(req.viewType, ViewTypeSchema, "view_type"),
      });
      return { experiments: page.items, nextPageToken: page.nextPageToken };
    },

    async updateExperiment(req) {
      const id = validateExperimentId(req.experimentId);
      return { experiment: await store.renameExperiment(id, validateExperimentName(req.newName, "new_name")) };
    },

    async setExperimentTag(req) {
      const id = validateExperimentId(req.experimentId);
      await store.setExperimentTag(id, validateKey(req.key, "key"), validateTagValue(req.value, "value"));
      return {};
    },

    async deleteExperimentTag(req) {
      const id = validateExperimentId(req.experimentId);
      await store.deleteExperimentTag(id, validateKey(req.key, "key"));
      return {};
    },

    async deleteExperiment(req) {
      await store.deleteExperiment(validateExperimentId(req.experimentId));
      return {};
    },

    async restoreExperiment(req) {
      await store.restoreExperiment(validateExperimentId(req.experimentId));
      return {};
    },

    async purgeExperiment(req) {
      const id = validateExperimentId(req.experimentId);
      const experiment = await store.getExperiment(id);
      if (experiment.lifecycleStage !== LifecycleStage.DELETED) throw trackingErrors.experimentNotDeleted(id);
      // Only what the experiment's own runs own is deleted: each run's prefix, never the whole
      // experiment location (a caller-chosen location may hold what is not the experiment's).
      // Blobs first: if the artifact store is down, nothing is purged and a retry starts over;
      // once the blobs are gone the experiment stays deleted until the metadata purge succeeds.
      for (const uri of await store.runArtifactUris(id)) {
        let prefix: string;
        try {
          prefix = artifactKeyPrefix(uri, blobs.rootUri);
        } catch {
          logger.info(
            { experimentId: id, artifactUri: uri },
            "purged run's artifacts are outside the artifact root; left in place",
          );
          continue;
        }
        await blobs.deletePrefix(prefix);
      }
      // The default location `<root>/<id>` is reserved for this experiment (no custom location may
      // lie there), so all of it is the experiment's, the run directories around the artifacts too.
      if (experiment.artifactLocation.replace(/\/+$/, "") === `${blobs.rootUri.replace(/\/+$/, "")}/${id}`) {
        await blobs.deletePrefix(`${id}/`);
      }
      await store.purgeExperiment(id);
      return {};
    },

    async createRun(req) {
      const experimentId = req.experimentId === "" ? defaultExperimentId : validateExperimentId(req.experimentId);
      const runName = validateRunName(req.runName);
      const startTime = validateTimestamp(req.startTime, "start_time");
      for (const [i, t] of req.tags.entries()) validateTag(t, `tags[${i}]`);
      const run = await store.createRun({
        experimentId,
        // The store names a run without a name and starts it now when start_time is 0.
        runName,
        startTime,
        tags: req.tags,
      });
      return { run };
    },

    async getRun(req) {
      return { run: await store.getRun(validateRunId(req.runId)) };
    },

    async updateRun(req) {
      const runId = validateRunId(req.runId);
      const status = validateEnum(req.status, RunStatusSchema, "status");
      let endTime = req.endTime === undefined ? undefined : validateTimestamp(req.endTime, "end_time");
      if (endTime === undefined && isTerminal(status)) endTime = Date.now();
      const runInfo = await store.updateRun(runId, {
        status: status === RunStatus.UNSPECIFIED ? undefined : status,
        endTime,
        runName: req.runName === undefined ? undefined : validateRunName(req.runName),
      });
      return { runInfo };
    },

    async deleteRun(req) {
      await store.deleteRun(validateRunId(req.runId));
      return {};
    },

    async restoreRun(req) {
      await store.restoreRun(validateRunId(req.runId));
      return {};
    },

    async setRunTag(req) {
      const runId = validateRunId(req.runId);
      const tag = create(TagSchema, { key: validateKey(req.key, "key"), value: validateTagValue(req.value, "value") });
      await store.logBatch(runId, { metrics: [], params: [], tags: [tag], batchId: "" });
      return {};
    },

    async deleteRunTag(req) {
      await store.deleteRunTag(validateRunId(req.runId), validateKey(req.key, "key"));
      return {};
    },

    async logParam(req) {
      const runId = validateRunId(req.runId);
      const param = create(ParamSchema, {
        key: validateKey(req.key, "key"),
        value: validateParamValue(req.value, "value"),
      });
      await store.logBatch(runId, { metrics: [], params: [param], tags: [], batchId: "" });
      return {};
    },

    async logMetric(req) {
      const runId = validateRunId(req.runId);
      if (req.metric === undefined) throw commonErrors.invalidArgument("metric", "is required");
      const metric = withTimestamp(validateMetric(req.metric, "metric"), Date.now());
      await store.logBatch(runId, { metrics: [metric], params: [], tags: [], batchId: "" });
      return {};
    },

    async logBatch(req) {
      const runId = validateRunId(req.runId);
      const batch = validateLogBatch(req);
      const now = Date.now();
      const result = await store.logBatch(runId, {
        ...batch,
        metrics: batch.metrics.map((m) => withTimestamp(m, now)),
      });
      return { duplicate: result.duplicate };
    },

    async getMetricHistory(req) {
      const page = await store.getMetricHistory({
        runId: validateRunId(req.runId),
        key: validateKey(req.metricKey, "metric_key"),
        maxResults: validatePageSize(req.maxResults, pageSizes.metricHistory),
        pageToken: validateQueryText(req.pageToken, "page_token"),
      });
      return { metrics: page.items, nextPageToken: page.nextPageToken };
    },

    async searchRuns(req, ctx) {
      if (req.experimentIds.length === 0)
        throw commonErrors.invalidArgument("experiment_ids", "at least one is required");
      const page = await store.searchRuns({
        experimentIds: req.experimentIds.map((id, i) => validateExperimentId(id, `experiment_ids[${i}]`)),
        filter: validateQueryText(req.filter, "filter"),
        viewType: validateEnum(req.runViewType, ViewTypeSchema, "run_view_type"),
        maxResults: validatePageSize(req.maxResults, pageSizes.searchRuns),
        orderBy: validateOrderBy(req.orderBy, maxOrderByClauses),
        pageToken: validateQueryText(req.pageToken, "page_token"),
        signal: ctx.signal,
      });
      return { runs: page.items, nextPageToken: page.nextPageToken };
    },

    async uploadArtifact(requests, ctx) {
      const messages = requests[Symbol.asyncIterator]();
      const first = await messages.next();
      if (first.done === true || first.value.content.case !== "header") {
        throw commonErrors.invalidArgument("header", "the first message of an upload must be the header");
      }
      const header = first.value.content.value;
      const runId = validateRunId(header.runId, "header.run_id");
      const path = validateArtifactPath(header.path, "header.path");
      const expectedSha256 = validateSha256(header.expectedSha256, "header.expected_sha256");
      const info = await activeRunInfo(runId);
      const key = artifactKey(info.artifactUri, blobs.rootUri, path);

      // An error of the request stream (a second header, a message over the size limit, a
      // client reset) is what the caller must see, whatever the blob store makes of it.
      let streamError: unknown;
      const stored = await blobs
        .put(
          key,
          chunksOf(messages, (err) => (streamError = err)),
          { expectedSha256: expectedSha256 === "" ? undefined : expectedSha256, signal: ctx.signal },
        )
        .catch((err: unknown) => {
          throw streamError ?? err;
        });
      await store.recordArtifact(runId, { path, size: stored.size, sha256: stored.sha256 });
      return { file: { path, isDir: false, fileSize: BigInt(stored.size), sha256: stored.sha256 } };
    },

    async *downloadArtifact(req, ctx) {
      const runId = validateRunId(req.runId);
      const path = validateArtifactPath(req.path, "path");
      const info = runInfo(await store.getRun(runId));
      const file = await store.getArtifact(runId, path);
      if (file === undefined || file.isDir) throw trackingErrors.artifactNotFound(runId, path);
      const reader = await blobs.get(artifactKey(info.artifactUri, blobs.rootUri, path), { signal: ctx.signal });
      yield { content: { case: "info", value: file } };
      for await (const chunk of downloadChunks(reader.body)) yield { content: { case: "chunk", value: chunk } };
    },

    async listArtifacts(req) {
      const runId = validateRunId(req.runId);
      const dir = validateArtifactPath(req.path, "path", { allowRoot: true });
      const info = runInfo(await store.getRun(runId));
      return { rootUri: info.artifactUri, files: await store.listArtifacts(runId, dir) };
    },
  };
}

/** Longest artifact location accepted, in characters. */
const maxArtifactLocationLength = 4096;

/**
 * A custom experiment artifact location: under this server's artifact root (no foreign bucket or
 * `file://` directory, which the server could not read and must never delete in), a clean path
 * below it, outside the namespaces of other experiments' default locations and of the registry's
 * copies (storage/blob/key-namespaces.ts). Returned without a trailing `/`. Overlap with another
 * experiment's custom location is the store's check (it needs the table).
 */
function validateArtifactLocationUnder(location: string, rootUri: string): string {
  validateText(location, "artifact_location", 1, maxArtifactLocationLength);
  const trimmed = location.replace(/\/+$/, "");
  let key: string;
  try {
    key = artifactKeyPrefix(trimmed, rootUri).slice(0, -1);
  } catch {
    throw commonErrors.invalidArgument(
      "artifact_location",
      `must be a directory under this server's artifact root ${rootUri.replace(/\/+$/, "")}/`,
    );
  }
  const reserved = reservedNamespaceProblem(key);
  if (reserved !== undefined) throw commonErrors.invalidArgument("artifact_location", `is reserved: ${reserved}`);
  return trimmed;
}

/** The info of a run the store returned; a run always has one. */
function runInfo(run: Run): RunInfo {
  if (run.info === undefined) throw commonErrors.internal(new Error("store returned a run without info"));
  return run.info;
}

/** A metric logged with timestamp 0 gets `now`, as the contract says. */
function withTimestamp(metric: Metric, now: number): Metric {
  return metric.timestamp === 0n ? create(MetricSchema, { ...metric, timestamp: BigInt(now) }) : metric;
}

function isTerminal(status: RunStatus): boolean {
  return status === RunStatus.FINISHED || status === RunStatus.FAILED || status === RunStatus.KILLED;
}

/**
 * The chunks after an upload's header. Another header is INVALID_ARGUMENT; any error (that one, or
 * one of the request stream) is reported to `onError` before it is rethrown.
 */
async function* chunksOf(
  messages: AsyncIterator<UploadArtifactRequest>,
  onError: (err: unknown) => void,
): AsyncIterable<Uint8Array> {
  try {
    for (let next = await messages.next(); next.done !== true; next = await messages.next()) {
      const content = next.value.content;
      if (content.case === "chunk") yield content.value;
      else throw commonErrors.invalidArgument("header", "only the first message of an upload may be the header");
    }
  } catch (err) {
    onError(err);
    throw err;
  }
}
