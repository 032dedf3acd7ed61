/**
 * MLflow's model registry endpoints (`/api/2.0/mlflow/registered-models/*`, `model-versions/*`),
 * each a thin translation onto RegistryService calls. The registry's rules (names, stages,
 * aliases, READY versions, the immutable copy of each version's ONNX file) are the service's;
 * what lives here is MLflow's wire: versions as strings, stages by name in any case, PATCH and
 * DELETE where MLflow uses them, `latest_versions` on models, and sources given the way MLflow
 * clients give them (`mlflow-artifacts:/<exp>/<run>/artifacts/<path>`, or an MLflow model
 * directory, registered by its one ONNX file).
 */
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { commonErrors } from "../../core/errors/index.js";
import {
  type ModelVersion,
  type RegisteredModel,
  RegistryService,
  type Stage,
} from "../../gen/mlpipe/registry/v1/registry_pb.js";
import {
  ListArtifactsRequestSchema,
  ListArtifactsResponseSchema,
  type TrackingService,
} from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { registryPageSize } from "../../registry/registry-service.js";
import type { JsonRouteTable } from "../protocol-json/json-router.js";
import type { BodyLimits } from "../protocol-json/request-body.js";
import type { ArtifactLocations } from "./artifact-locations.js";
import {
  boolField,
  keyValueMap,
  type MlflowParams,
  optionalInt64,
  optionalString,
  pageSizeField,
  stringField,
  stringList,
} from "./mlflow-params.js";
import { callUnary, mlflowRoutesOf } from "./mlflow-rpc.js";
import { createProxiedPaths, versionDirectory } from "./proxied-paths.js";
import { modelVersionJson, registeredModelJson, stageNameList, stageOfName } from "./registry-json.js";

/** What the registry endpoints need. */
export interface MlflowRegistryRoutesOptions {
  /** The RegistryService implementation the Connect router serves (with whatever wraps it). */
  readonly registry: ServiceImpl<typeof RegistryService>;
  /** The TrackingService implementation: sources inside runs' artifacts are resolved through it. */
  readonly tracking: ServiceImpl<typeof TrackingService>;
  readonly locations: ArtifactLocations;
  /** Bounds of request bodies: size (MAX_REQUEST_BYTES) and time to arrive (REQUEST_READ_TIMEOUT_MS). */
  readonly body: BodyLimits;
}

/** A version number field: MLflow sends it as a string ("3"); absent is 0, which the service refuses. */
function versionField(params: MlflowParams): bigint {
  return optionalInt64(params, "version") ?? 0n;
}

/** A stage by MLflow's name, any case. */
function stageField(name: string, field: string): Stage {
  const stage = stageOfName(name);
  if (stage === undefined) throw commonErrors.invalidArgument(field, `"${name}" is not one of ${stageNameList}`);
  return stage;
}

/** The registry endpoints by path below `/api/2.0/mlflow/`. */
export function mlflowRegistryRoutes(options: MlflowRegistryRoutesOptions): JsonRouteTable {
  const { registry, tracking, locations, body } = options;
  const M = RegistryService.method;
  const { on, rpc } = mlflowRoutesOf(registry, body);
  const resolve = createProxiedPaths(tracking, locations);

  const latestVersions = async (name: string, ctx: HandlerContext): Promise<ModelVersion[]> =>
    (await callUnary(registry, M.getLatestVersions, { name, stages: [] }, ctx)).modelVersions;

  /** A model as MLflow answers it, with the newest version of each stage. */
  const modelJson = async (model: RegisteredModel | undefined, ctx: HandlerContext) =>
    model === undefined ? {} : registeredModelJson(model, await latestVersions(model.name, ctx), locations);

  const versionJson = (version: ModelVersion | undefined) =>
    version === undefined ? {} : modelVersionJson(version, locations);

  /** The answer of the calls that give one registered model. */
  const modelAnswer = async (
    { registeredModel }: { registeredModel?: RegisteredModel | undefined },
    ctx: HandlerContext,
  ) => ({
    registered_model: await modelJson(registeredModel, ctx),
  });
  /** The answer of the calls that give one model version. */
  const versionAnswer = ({ modelVersion }: { modelVersion?: ModelVersion | undefined }) => ({
    model_version: versionJson(modelVersion),
  });
  /** The name and version of a request naming a model version. */
  const versionOf = (params: MlflowParams) => ({ name: stringField(params, "name"), version: versionField(params) });

  /**
   * The registration source of an MLflow request in mlpipe's terms: a proxied URI inside a run's
   * artifacts becomes `runs:/<run_id>/<path>`, and a directory there (an MLflow model directory)
   * its one `.onnx` file; other proxied paths become the store's URI; anything else is passed on.
   */
  const sourceOf = async (source: string, ctx: HandlerContext): Promise<string> => {
    let runId: string;
    let path: string;
    const proxied = locations.proxiedPath(source);
    const runsUri = /^runs:\/([^/]+)\/(.*)$/.exec(source);
    if (runsUri?.[1] !== undefined && runsUri[2] !== undefined) {
      [runId, path] = [runsUri[1], runsUri[2]];
    } else if (proxied !== undefined) {
      const target = await resolve(proxied, ctx).catch(() => undefined);
      if (target?.kind !== "run") return locations.uriOf(proxied);
      ({ runId, path } = target);
    } else {
      return source;
    }
    // A path that cannot be listed (a file, or nothing) is passed on for the service to judge.
    const listed = await Promise.resolve(
      tracking.listArtifacts(create(ListArtifactsRequestSchema, { runId, path }), ctx),
    )
      .then((answer) => create(ListArtifactsResponseSchema, answer).files)
      .catch(() => []);
    const onnx = listed.filter((f) => !f.isDir && f.path.endsWith(".onnx"));
    return `runs:/${runId}/${onnx.length === 1 && onnx[0] !== undefined ? onnx[0].path : path}`;
  };

  const latest = rpc(
    M.getLatestVersions,
    (params) => ({
      name: stringField(params, "name"),
      stages: stringList(params, "stages").map((s, i) => stageField(s, `stages[${i}]`)),
    }),
    ({ modelVersions }) => ({ model_versions: modelVersions.map(versionJson) }),
  );

  return {
    "registered-models/create": {
      POST: rpc(
        M.createRegisteredModel,
        (params) => ({
          name: stringField(params, "name"),
          description: stringField(params, "description"),
          tags: keyValueMap(params, "tags"),
        }),
        modelAnswer,
      ),
    },
    "registered-models/get": {
      GET: rpc(M.getRegisteredModel, (params) => ({ name: stringField(params, "name") }), modelAnswer),
    },
    "registered-models/rename": {
      POST: rpc(
        M.renameRegisteredModel,
        (params) => ({ name: stringField(params, "name"), newName: stringField(params, "new_name") }),
        modelAnswer,
      ),
    },
    "registered-models/update": {
      PATCH: rpc(
        M.updateRegisteredModel,
        (params) => ({ name: stringField(params, "name"), description: stringField(params, "description") }),
        modelAnswer,
      ),
    },
    "registered-models/delete": {
      DELETE: rpc(M.deleteRegisteredModel, (params) => ({ name: stringField(params, "name") })),
    },
    "registered-models/search": {
      GET: rpc(
        M.searchRegisteredModels,
        (params) => ({
          filter: stringField(params, "filter"),
          maxResults: pageSizeField(params),
          orderBy: stringList(params, "order_by"),
          pageToken: stringField(params, "page_token"),
        }),
        async (page, ctx) => ({
          registered_models: await Promise.all(page.registeredModels.map((m) => modelJson(m, ctx))),
          ...(page.nextPageToken === "" ? {} : { next_page_token: page.nextPageToken }),
        }),
      ),
    },
    "registered-models/get-latest-versions": {
      GET: latest,
      POST: latest,
    },
    "registered-models/set-tag": {
      POST: rpc(M.setRegisteredModelTag, (params) => ({
        name: stringField(params, "name"),
        key: stringField(params, "key"),
        value: stringField(params, "value"),
      })),
    },
    "registered-models/delete-tag": {
      DELETE: rpc(M.deleteRegisteredModelTag, (params) => ({
        name: stringField(params, "name"),
        key: stringField(params, "key"),
      })),
    },
    "registered-models/alias": {
      POST: rpc(M.setRegisteredModelAlias, (params) => ({
        name: stringField(params, "name"),
        alias: stringField(params, "alias"),
        version: versionField(params),
      })),
      DELETE: rpc(M.deleteRegisteredModelAlias, (params) => ({
        name: stringField(params, "name"),
        alias: stringField(params, "alias"),
      })),
      GET: rpc(
        M.getModelVersionByAlias,
        (params) => ({ name: stringField(params, "name"), alias: stringField(params, "alias") }),
        versionAnswer,
      ),
    },

    "model-versions/create": {
      POST: rpc(
        M.createModelVersion,
        async (params, ctx) => ({
          name: stringField(params, "name"),
          source: await sourceOf(stringField(params, "source"), ctx),
          description: stringField(params, "description"),
          tags: keyValueMap(params, "tags"),
        }),
        versionAnswer,
      ),
    },
    "model-versions/get": {
      GET: rpc(M.getModelVersion, versionOf, versionAnswer),
    },
    "model-versions/update": {
      PATCH: on(M.updateModelVersion, async (params, ctx) => {
        const description = optionalString(params, "description");
        // MLflow changes the description only when the request has one.
        const answer =
          description === undefined
            ? await callUnary(registry, M.getModelVersion, versionOf(params), ctx)
            : await callUnary(registry, M.updateModelVersion, { ...versionOf(params), description }, ctx);
        return versionAnswer(answer);
      }),
    },
    "model-versions/delete": {
      DELETE: rpc(M.deleteModelVersion, versionOf),
    },
    "model-versions/search": {
      GET: rpc(
        M.searchModelVersions,
        (params) => ({
          filter: stringField(params, "filter"),
          // MLflow clients ask for up to 200,000 per page; the registry pages at most 1000 and says
          // where the next page starts, which MLflow's paged searches follow.
          maxResults: Math.min(pageSizeField(params), registryPageSize.max),
          orderBy: stringList(params, "order_by"),
          pageToken: stringField(params, "page_token"),
        }),
        (page) => ({
          model_versions: page.modelVersions.map(versionJson),
          ...(page.nextPageToken === "" ? {} : { next_page_token: page.nextPageToken }),
        }),
      ),
    },
    "model-versions/transition-stage": {
      POST: rpc(
        M.transitionModelVersionStage,
        (params) => ({
          ...versionOf(params),
          stage: stageField(stringField(params, "stage"), "stage"),
          archiveExistingVersions: boolField(params, "archive_existing_versions"),
        }),
        versionAnswer,
      ),
    },
    "model-versions/set-tag": {
      POST: rpc(M.setModelVersionTag, (params) => ({
        ...versionOf(params),
        key: stringField(params, "key"),
        value: stringField(params, "value"),
      })),
    },
    "model-versions/delete-tag": {
      DELETE: rpc(M.deleteModelVersionTag, (params) => ({ ...versionOf(params), key: stringField(params, "key") })),
    },
    "model-versions/get-download-uri": {
      GET: rpc(M.getModelVersion, versionOf, ({ modelVersion }) => {
        if (modelVersion === undefined) throw commonErrors.internal(new Error("GetModelVersion answered no version"));
        return { artifact_uri: `mlflow-artifacts:/${versionDirectory(modelVersion.name, modelVersion.version)}` };
      }),
    },
  };
}
