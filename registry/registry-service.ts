/**
 * The model registry's RPC implementation, transport-agnostic: the gateway mounts it for gRPC,
 * Connect and gRPC-Web. Handlers validate the request, take the actor from the `mlpipe-actor`
 * header, call the store and blob store, and throw catalogued MlpipeErrors, which the gateway's
 * error interceptor translates.
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { commonErrors } from "../core/errors/common-errors.js";
import { registryErrors } from "../core/errors/registry-errors.js";
import type { Logger } from "../core/logger.js";
import { actorFrom, actorHeader } from "../core/validation/actor.js";
import { validateAlias } from "../core/validation/aliases.js";
import { validateStage } from "../core/validation/enums.js";
import { validateVersion } from "../core/validation/ids.js";
import { validateModelName } from "../core/validation/names.js";
import { type PageSizeRule, validatePageSize } from "../core/validation/numbers.js";
import { validateModelTag, validateModelTags } from "../core/validation/tags.js";
import { validateDescription } from "../core/validation/values.js";
import {
  type DownloadModelVersionResponse,
  DownloadModelVersionResponseSchema,
  ModelVersionStatus,
  RegistryEventType,
  type RegistryService,
  WatchHeartbeatSchema,
  type WatchRegisteredModelResponse,
  WatchRegisteredModelResponseSchema,
} from "../gen/mlpipe/registry/v1/registry_pb.js";
import { FileInfoSchema } from "../gen/mlpipe/tracking/v1/tracking_pb.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import { downloadChunks } from "../storage/blob/download-chunks.js";
import { registryKeyNamespace } from "../storage/blob/key-namespaces.js";
import type { RunArtifactLookup } from "../tracking/run-artifact-lookup.js";
import { checkArtifact } from "./model-registration.js";
import { joinUri, parseRegistrationSource } from "./registration-source.js";
import type { RegistryStore, SearchQuery } from "./registry-store.js";
import { receiveTrafficReport } from "./rollout/traffic-report.js";
import { createTrafficStatsWindow, type TrafficStatsWindow } from "./rollout/traffic-stats-window.js";
import { allStages, statusName } from "./stage-names.js";
import type { Wakeup, WatchHub } from "./watch-hub.js";

/** What the registry service is built from. */
export interface RegistryServiceDeps {
  readonly store: RegistryStore;
  /** Tracking's answer to "where is this run's artifact file" (`runs:/` sources). */
  readonly runArtifacts: RunArtifactLookup;
  /** Where artifacts are read from and where the registry keeps its copies. */
  readonly blobs: BlobStore;
  /** Wake-ups for WatchRegisteredModel; started by the composition root. */
  readonly watchHub: WatchHub;
  readonly logger: Logger;
  /** Largest artifact registered, in bytes (default 2 GiB - 1, protobuf's limit for an ONNX file). */
  readonly maxArtifactBytes?: number;
  /** Blob-key prefix of the registry's artifact copies (default "model-registry"). */
  readonly storagePrefix?: string;
  /**
   * Quiet time after which a watch stream gets a heartbeat and re-reads the log on its own, in ms
   * (default 30 s).
   */
  readonly watchHeartbeatMs?: number;
  /**
   * Where ReportTrafficStats keeps the reports for the rollout controller (registry/rollout/);
   * default a window of its own, which no controller reads.
   */
  readonly trafficStats?: TrafficStatsWindow;
}

/** Default of {@link RegistryServiceDeps.maxArtifactBytes}. */
const defaultMaxArtifactBytes = 2 ** 31 - 1;

/** Page size of searches and listings: 100 by default, at most 1000. */
export const registryPageSize: PageSizeRule = { default: 100, max: 1000 };

/** The store query of a search request, its page size checked (max_results: 0 gives the default). */
function searchQuery(req: SearchQuery): SearchQuery {
  return {
    filter: req.filter,
    maxResults: validatePageSize(req.maxResults, registryPageSize),
    orderBy: req.orderBy,
    pageToken: req.pageToken,
  };
}

/** Events read from the log per query while a watcher catches up. */
const watchBatch = 500;

/** The file name of a version's artifact in downloads and in the registry's storage. */
const artifactFileName = "model.onnx";

/** Creates the registry service implementation. */
export function createRegistryService(deps: RegistryServiceDeps): ServiceImpl<typeof RegistryService> {
  const { store, runArtifacts, blobs, logger } = deps;
  const maxArtifactBytes = deps.maxArtifactBytes ?? defaultMaxArtifactBytes;
  const storagePrefix = deps.storagePrefix ?? registryKeyNamespace;
  const actor = (ctx: HandlerContext): string => actorFrom(ctx.requestHeader.get(actorHeader));
  const trafficStats = deps.trafficStats ?? createTrafficStatsWindow();

  /** Removes stored artifact copies after the rows that named them are gone; failures are only logged. */
  const removeCopies = async (keys: readonly string[]): Promise<void> => {
    for (const key of keys) {
      const dir = key.slice(0, key.lastIndexOf("/") + 1);
      if (dir === "") continue;
      await blobs.deletePrefix(dir).catch((err: unknown) => {
        logger.warn({ err, key }, "registry: could not remove a deleted version's artifact copy");
      });
    }
  };

  return {
    async createRegisteredModel(req, ctx) {
      const name = validateModelName(req.name);
      validateDescription(req.description);
      validateModelTags(req.tags);
      const who = actor(ctx);
      return { registeredModel: await store.createModel({ name, description: req.description, tags: req.tags }, who) };
    },

    async getRegisteredModel(req) {
      return { registeredModel: await store.getModel(validateModelName(req.name)) };
    },

    async searchRegisteredModels(req) {
      const page = await store.searchModels(searchQuery(req));
      return { registeredModels: page.items, nextPageToken: page.nextPageToken };
    },

    async renameRegisteredModel(req, ctx) {
      const name = validateModelName(req.name);
      const newName = validateModelName(req.newName, "new_name");
      const who = actor(ctx);
      return { registeredModel: await store.renameModel(name, newName, who) };
    },

    async updateRegisteredModel(req, ctx) {
      const name = validateModelName(req.name);
      validateDescription(req.description);
      return { registeredModel: await store.updateModelDescription(name, req.description, actor(ctx)) };
    },

    async deleteRegisteredModel(req, ctx) {
      const name = validateModelName(req.name);
      const { storageKeys } = await store.deleteModel(name, actor(ctx));
      await removeCopies(storageKeys);
      return {};
    },

    async setRegisteredModelTag(req, ctx) {
      const name = validateModelName(req.name);
      validateModelTag(req.key, req.value);
      await store.setModelTag(name, req.key, req.value, actor(ctx));
      return {};
    },

    async deleteRegisteredModelTag(req, ctx) {
      const name = validateModelName(req.name);
      await store.deleteModelTag(name, req.key, actor(ctx));
      return {};
    },

    async createModelVersion(req, ctx) {
      const name = validateModelName(req.name);
      validateDescription(req.description);
      validateModelTags(req.tags);
      const source = parseRegistrationSource(req.source, blobs.rootUri);
      const who = actor(ctx);
      // Fail fast, before reading a possibly large artifact, when the model does not exist.
      await store.getModel(name);
      const checked = await checkArtifact({ runArtifacts, blobs, maxArtifactBytes }, source, ctx.signal);
      const base = {
        name,
        source: req.source,
        runId: source.kind === "run" ? source.runId : "",
        description: req.description,
        tags: req.tags,
      };
      if (!checked.ok) {
        logger.info({ model: name, source: req.source, reason: checked.reason }, "registry: registration failed");
        const version = await store.createVersion(
          {
            ...base,
            status: ModelVersionStatus.FAILED_REGISTRATION,
            statusMessage: checked.reason,
            artifactSize: 0,
            artifactSha256: "",
            storageKey: "",
            storageUri: "",
            signature: undefined,
          },
          who,
        );
        return { modelVersion: version };
      }
      // The registry keeps its own immutable copy: a run's artifact may be replaced or purged later.
      const storageKey = `${storagePrefix}/${randomUUID()}/${artifactFileName}`;
      await blobs.put(
        storageKey,
        (async function* () {
          yield checked.bytes;
        })(),
        { expectedSha256: checked.sha256, signal: ctx.signal },
      );
      try {
        const version = await store.createVersion(
          {
            ...base,
            status: ModelVersionStatus.READY,
            statusMessage: "",
            artifactSize: checked.size,
            artifactSha256: checked.sha256,
            storageKey,
            storageUri: joinUri(blobs.rootUri, storageKey),
            signature: checked.signature,
          },
          who,
        );
        return { modelVersion: version };
      } catch (err) {
        await removeCopies([storageKey]);
        throw err;
      }
    },

    async getModelVersion(req) {
      return { modelVersion: await store.getVersion(validateModelName(req.name), validateVersion(req.version)) };
    },

    async searchModelVersions(req) {
      const page = await store.searchVersions(searchQuery(req));
      return { modelVersions: page.items, nextPageToken: page.nextPageToken };
    },

    async updateModelVersion(req, ctx) {
      const name = validateModelName(req.name);
      const version = validateVersion(req.version);
      validateDescription(req.description);
      return { modelVersion: await store.updateVersionDescription(name, version, req.description, actor(ctx)) };
    },

    async deleteModelVersion(req, ctx) {
      const name = validateModelName(req.name);
      const version = validateVersion(req.version);
      const { storageKey } = await store.deleteVersion(name, version, actor(ctx));
      if (storageKey !== "") await removeCopies([storageKey]);
      return {};
    },

    async setModelVersionTag(req, ctx) {
      const name = validateModelName(req.name);
      const version = validateVersion(req.version);
      validateModelTag(req.key, req.value);
      await store.setVersionTag(name, version, req.key, req.value, actor(ctx));
      return {};
    },

    async deleteModelVersionTag(req, ctx) {
      const name = validateModelName(req.name);
      const version = validateVersion(req.version);
      await store.deleteVersionTag(name, version, req.key, actor(ctx));
      return {};
    },

    async transitionModelVersionStage(req, ctx) {
      const name = validateModelName(req.name);
      const version = validateVersion(req.version);
      const stage = validateStage(req.stage);
      const who = actor(ctx);
      return {
        modelVersion: await store.transitionStage(name, version, stage, req.archiveExistingVersions, who),
      };
    },

    async getLatestVersions(req) {
      const name = validateModelName(req.name);
      const stages = req.stages.length === 0 ? allStages : req.stages.map((s, i) => validateStage(s, `stages[${i}]`));
      return { modelVersions: await store.getLatestVersions(name, [...new Set(stages)]) };
    },

    async *downloadModelVersion(req, ctx): AsyncGenerator<DownloadModelVersionResponse> {
      const name = validateModelName(req.name);
      const version = validateVersion(req.version);
      const found = await store.getVersionArtifact(name, version);
      if (found.version.status !== ModelVersionStatus.READY || found.storageKey === "") {
        throw registryErrors.versionNotReady(name, version, statusName(found.version.status));
      }
      const reader = await blobs.get(found.storageKey, { signal: ctx.signal });
      yield create(DownloadModelVersionResponseSchema, {
        content: {
          case: "info",
          value: create(FileInfoSchema, {
            path: artifactFileName,
            isDir: false,
            fileSize: BigInt(reader.size),
            sha256: found.version.artifactSha256,
          }),
        },
      });
      for await (const chunk of downloadChunks(reader.body)) {
        yield create(DownloadModelVersionResponseSchema, { content: { case: "chunk", value: chunk } });
      }
    },

    async setRegisteredModelAlias(req, ctx) {
      const name = validateModelName(req.name);
      const alias = validateAlias(req.alias);
      const version = validateVersion(req.version);
      await store.setAlias(name, alias, version, actor(ctx));
      return {};
    },

    async deleteRegisteredModelAlias(req, ctx) {
      const name = validateModelName(req.name);
      const alias = validateAlias(req.alias);
      await store.deleteAlias(name, alias, actor(ctx));
      return {};
    },

    async getModelVersionByAlias(req) {
      const name = validateModelName(req.name);
      return { modelVersion: await store.getVersionByAlias(name, validateAlias(req.alias)) };
    },

    async listRegistryEvents(req) {
      const page = await store.listEvents(
        validateModelName(req.name),
        validatePageSize(req.maxResults, registryPageSize),
        req.pageToken,
      );
      return { events: page.items, nextPageToken: page.nextPageToken };
    },

    async reportTrafficStats(req) {
      await receiveTrafficReport({ store, stats: trafficStats }, req, Date.now());
      return {};
    },

    async *watchRegisteredModel(req, ctx): AsyncGenerator<WatchRegisteredModelResponse> {
      const name = validateModelName(req.name);
      if (req.afterSequence < 0n) throw commonErrors.invalidArgument("after_sequence", "must be 0 or more");
      let cursor = req.afterSequence;
      let modelId: string;
      let first: WatchRegisteredModelResponse | undefined;
      if (cursor === 0n) {
        const { modelId: id, state } = await store.getModelState(name);
        modelId = id;
        cursor = state.sequence;
        first = create(WatchRegisteredModelResponseSchema, { content: { case: "state", value: state } });
      } else {
        modelId = await store.resolveWatchedModel(name, cursor);
      }
      // Subscribed before the first read of the log below: a change committed from here on
      // either is in that read or wakes the loop.
      const wakeups = deps.watchHub.subscribe(modelId);
      const heartbeatMs = deps.watchHeartbeatMs ?? 30_000;
      try {
        if (first !== undefined) yield first;
        let wakeup: Wakeup = "changed";
        for (;;) {
          let events: Awaited<ReturnType<RegistryStore["eventsAfter"]>>;
          try {
            events = await store.eventsAfter(modelId, cursor, watchBatch);
          } catch (err) {
            // The database is briefly unreachable (restart, failover): keep the stream and read again
            // on the next wake-up, at the latest after the heartbeat interval.
            if (!commonErrors.databaseUnavailable.is(err)) throw err;
            logger.warn({ err, model: name }, "registry watch: database unavailable, retrying");
            events = [];
          }
          for (const event of events) {
            yield create(WatchRegisteredModelResponseSchema, { content: { case: "event", value: event } });
            cursor = event.sequence;
            if (event.type === RegistryEventType.MODEL_DELETED) return;
          }
          if (events.length === 0 && wakeup === "idle") {
            yield create(WatchRegisteredModelResponseSchema, {
              content: { case: "heartbeat", value: create(WatchHeartbeatSchema, { sequence: cursor }) },
            });
          }
          if (events.length === watchBatch) continue;
          // "idle" re-reads the log too: a slow per-watcher retry after a read that failed.
          wakeup = await wakeups.next(ctx.signal, heartbeatMs);
          if (wakeup === "closed") return;
        }
      } finally {
        wakeups.close();
      }
    },
  };
}
