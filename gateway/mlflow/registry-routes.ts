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
  CreateModelVersionRequestSchema,
  CreateModelVersionResponseSchema,
  CreateRegisteredModelRequestSchema,
  CreateRegisteredModelResponseSchema,
  DeleteModelVersionRequestSchema,
  DeleteModelVersionTagRequestSchema,
  DeleteRegisteredModelAliasRequestSchema,
  DeleteRegisteredModelRequestSchema,
  DeleteRegisteredModelTagRequestSchema,
  GetLatestVersionsRequestSchema,
  GetLatestVersionsResponseSchema,
  GetModelVersionByAliasRequestSchema,
  GetModelVersionByAliasResponseSchema,
  GetModelVersionRequestSchema,
  GetModelVersionResponseSchema,
  GetRegisteredModelRequestSchema,
  GetRegisteredModelResponseSchema,
  type ModelVersion,
  type RegisteredModel,
  RegistryService,
  RenameRegisteredModelRequestSchema,
  RenameRegisteredModelResponseSchema,
  SearchModelVersionsRequestSchema,
  SearchModelVersionsResponseSchema,
  SearchRegisteredModelsRequestSchema,
  SearchRegisteredModelsResponseSchema,
  SetModelVersionTagRequestSchema,
  SetRegisteredModelAliasRequestSchema,
  SetRegisteredModelTagRequestSchema,
  type Stage,
  TransitionModelVersionStageRequestSchema,
  TransitionModelVersionStageResponseSchema,
  UpdateModelVersionRequestSchema,
  UpdateModelVersionResponseSchema,
  UpdateRegisteredModelRequestSchema,
  UpdateRegisteredModelResponseSchema,
} from "../../gen/mlpipe/registry/v1/registry_pb.js";
import {
  ListArtifactsRequestSchema,
  ListArtifactsResponseSchema,
  type TrackingService,
} from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { registryPageSize } from "../../registry/registry-service.js";
import type { JsonRouteTable } from "../protocol-json/json-router.js";
import type { ArtifactLocations } from "./artifact-locations.js";
import { type MlflowEndpoint, mlflowEndpoint } from "./mlflow-call.js";
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
import { createProxiedPaths, versionDirectory } from "./proxied-paths.js";
import { modelVersionJson, registeredModelJson, stageNameList, stageOfName } from "./registry-json.js";

/** What the registry endpoints need. */
export interface MlflowRegistryRoutesOptions {
  /** The RegistryService implementation the Connect router serves (with whatever wraps it). */
  readonly registry: ServiceImpl<typeof RegistryService>;
  /** The TrackingService implementation: sources inside runs' artifacts are resolved through it. */
  readonly tracking: ServiceImpl<typeof TrackingService>;
  readonly locations: ArtifactLocations;
  /** Largest request body in bytes (MAX_REQUEST_BYTES). */
  readonly maxRequestBytes: number;
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
  const { registry, tracking, locations, maxRequestBytes } = options;
  const on = (method: keyof typeof RegistryService.method, endpoint: MlflowEndpoint) =>
    mlflowEndpoint(RegistryService.method[method], maxRequestBytes, endpoint);
  const resolve = createProxiedPaths(tracking, locations);

  const latestVersions = async (name: string, ctx: HandlerContext): Promise<ModelVersion[]> =>
    create(
      GetLatestVersionsResponseSchema,
      await registry.getLatestVersions(create(GetLatestVersionsRequestSchema, { name, stages: [] }), ctx),
    ).modelVersions;

  /** A model as MLflow answers it, with the newest version of each stage. */
  const modelJson = async (model: RegisteredModel | undefined, ctx: HandlerContext) =>
    model === undefined ? {} : registeredModelJson(model, await latestVersions(model.name, ctx), locations);

  const versionJson = (version: ModelVersion | undefined) =>
    version === undefined ? {} : modelVersionJson(version, locations);

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

  const latest: MlflowEndpoint = async (params, ctx) => {
    const { modelVersions } = create(
      GetLatestVersionsResponseSchema,
      await registry.getLatestVersions(
        create(GetLatestVersionsRequestSchema, {
          name: stringField(params, "name"),
          stages: stringList(params, "stages").map((s, i) => stageField(s, `stages[${i}]`)),
        }),
        ctx,
      ),
    );
    return { model_versions: modelVersions.map(versionJson) };
  };

  return {
    "registered-models/create": {
      POST: on("createRegisteredModel", async (params, ctx) => {
        const { registeredModel } = create(
          CreateRegisteredModelResponseSchema,
          await registry.createRegisteredModel(
            create(CreateRegisteredModelRequestSchema, {
              name: stringField(params, "name"),
              description: stringField(params, "description"),
              tags: keyValueMap(params, "tags"),
            }),
            ctx,
          ),
        );
        return { registered_model: await modelJson(registeredModel, ctx) };
      }),
    },
    "registered-models/get": {
      GET: on("getRegisteredModel", async (params, ctx) => {
        const { registeredModel } = create(
          GetRegisteredModelResponseSchema,
          await registry.getRegisteredModel(
            create(GetRegisteredModelRequestSchema, { name: stringField(params, "name") }),
            ctx,
          ),
        );
        return { registered_model: await modelJson(registeredModel, ctx) };
      }),
    },
    "registered-models/rename": {
      POST: on("renameRegisteredModel", async (params, ctx) => {
        const { registeredModel } = create(
          RenameRegisteredModelResponseSchema,
          await registry.renameRegisteredModel(
            create(RenameRegisteredModelRequestSchema, {
              name: stringField(params, "name"),
              newName: stringField(params, "new_name"),
            }),
            ctx,
          ),
        );
        return { registered_model: await modelJson(registeredModel, ctx) };
      }),
    },
    "registered-models/update": {
      PATCH: on("updateRegisteredModel", async (params, ctx) => {
        const { registeredModel } = create(
          UpdateRegisteredModelResponseSchema,
          await registry.updateRegisteredModel(
            create(UpdateRegisteredModelRequestSchema, {
              name: stringField(params, "name"),
              description: stringField(params, "description"),
            }),
            ctx,
          ),
        );
        return { registered_model: await modelJson(registeredModel, ctx) };
      }),
    },
    "registered-models/delete": {
      DELETE: on("deleteRegisteredModel", async (params, ctx) => {
        await registry.deleteRegisteredModel(
          create(DeleteRegisteredModelRequestSchema, { name: stringField(params, "name") }),
          ctx,
        );
        return {};
      }),
    },
    "registered-models/search": {
      GET: on("searchRegisteredModels", async (params, ctx) => {
        const page = create(
          SearchRegisteredModelsResponseSchema,
          await registry.searchRegisteredModels(
            create(SearchRegisteredModelsRequestSchema, {
              filter: stringField(params, "filter"),
              maxResults: pageSizeField(params),
              orderBy: stringList(params, "order_by"),
              pageToken: stringField(params, "page_token"),
            }),
            ctx,
          ),
        );
        return {
          registered_models: await Promise.all(page.registeredModels.map((m) => modelJson(m, ctx))),
          ...(page.nextPageToken === "" ? {} : { next_page_token: page.nextPageToken }),
        };
      }),
    },
    "registered-models/get-latest-versions": {
      GET: on("getLatestVersions", latest),
      POST: on("getLatestVersions", latest),
    },
    "registered-models/set-tag": {
      POST: on("setRegisteredModelTag", async (params, ctx) => {
        await registry.setRegisteredModelTag(
          create(SetRegisteredModelTagRequestSchema, {
            name: stringField(params, "name"),
            key: stringField(params, "key"),
            value: stringField(params, "value"),
          }),
          ctx,
        );
        return {};
      }),
    },
    "registered-models/delete-tag": {
      DELETE: on("deleteRegisteredModelTag", async (params, ctx) => {
        await registry.deleteRegisteredModelTag(
          create(DeleteRegisteredModelTagRequestSchema, {
            name: stringField(params, "name"),
            key: stringField(params, "key"),
          }),
          ctx,
        );
        return {};
      }),
    },
    "registered-models/alias": {
      POST: on("setRegisteredModelAlias", async (params, ctx) => {
        await registry.setRegisteredModelAlias(
          create(SetRegisteredModelAliasRequestSchema, {
            name: stringField(params, "name"),
            alias: stringField(params, "alias"),
            version: versionField(params),
          }),
          ctx,
        );
        return {};
      }),
      DELETE: on("deleteRegisteredModelAlias", async (params, ctx) => {
        await registry.deleteRegisteredModelAlias(
          create(DeleteRegisteredModelAliasRequestSchema, {
            name: stringField(params, "name"),
            alias: stringField(params, "alias"),
          }),
          ctx,
        );
        return {};
      }),
      GET: on("getModelVersionByAlias", async (params, ctx) => {
        const { modelVersion } = create(
          GetModelVersionByAliasResponseSchema,
          await registry.getModelVersionByAlias(
            create(GetModelVersionByAliasRequestSchema, {
              name: stringField(params, "name"),
              alias: stringField(params, "alias"),
            }),
            ctx,
          ),
        );
        return { model_version: versionJson(modelVersion) };
      }),
    },

    "model-versions/create": {
      POST: on("createModelVersion", async (params, ctx) => {
        const { modelVersion } = create(
          CreateModelVersionResponseSchema,
          await registry.createModelVersion(
            create(CreateModelVersionRequestSchema, {
              name: stringField(params, "name"),
              source: await sourceOf(stringField(params, "source"), ctx),
              description: stringField(params, "description"),
              tags: keyValueMap(params, "tags"),
            }),
            ctx,
          ),
        );
        return { model_version: versionJson(modelVersion) };
      }),
    },
    "model-versions/get": {
      GET: on("getModelVersion", async (params, ctx) => {
        const { modelVersion } = create(
          GetModelVersionResponseSchema,
          await registry.getModelVersion(
            create(GetModelVersionRequestSchema, { name: stringField(params, "name"), version: versionField(params) }),
            ctx,
          ),
        );
        return { model_version: versionJson(modelVersion) };
      }),
    },
    "model-versions/update": {
      PATCH: on("updateModelVersion", async (params, ctx) => {
        const name = stringField(params, "name");
        const version = versionField(params);
        const description = optionalString(params, "description");
        // MLflow changes the description only when the request has one.
        const answer =
          description === undefined
            ? create(
                GetModelVersionResponseSchema,
                await registry.getModelVersion(create(GetModelVersionRequestSchema, { name, version }), ctx),
              )
            : create(
                UpdateModelVersionResponseSchema,
                await registry.updateModelVersion(
                  create(UpdateModelVersionRequestSchema, { name, version, description }),
                  ctx,
                ),
              );
        return { model_version: versionJson(answer.modelVersion) };
      }),
    },
    "model-versions/delete": {
      DELETE: on("deleteModelVersion", async (params, ctx) => {
        await registry.deleteModelVersion(
          create(DeleteModelVersionRequestSchema, { name: stringField(params, "name"), version: versionField(params) }),
          ctx,
        );
        return {};
      }),
    },
    "model-versions/search": {
      GET: on("searchModelVersions", async (params, ctx) => {
        // MLflow clients ask for up to 200,000 per page; the registry pages at most 1000 and says
        // where the next page starts, which MLflow's paged searches follow.
        const page = create(
          SearchModelVersionsResponseSchema,
          await registry.searchModelVersions(
            create(SearchModelVersionsRequestSchema, {
              filter: stringField(params, "filter"),
              maxResults: Math.min(pageSizeField(params), registryPageSize.max),
              orderBy: stringList(params, "order_by"),
              pageToken: stringField(params, "page_token"),
            }),
            ctx,
          ),
        );
        return {
          model_versions: page.modelVersions.map(versionJson),
          ...(page.nextPageToken === "" ? {} : { next_page_token: page.nextPageToken }),
        };
      }),
    },
    "model-versions/transition-stage": {
      POST: on("transitionModelVersionStage", async (params, ctx) => {
        const { modelVersion } = create(
          TransitionModelVersionStageResponseSchema,
          await registry.transitionModelVersionStage(
            create(TransitionModelVersionStageRequestSchema, {
              name: stringField(params, "name"),
              version: versionField(params),
              stage: stageField(stringField(params, "stage"), "stage"),
              archiveExistingVersions: boolField(params, "archive_existing_versions"),
            }),
            ctx,
          ),
        );
        return { model_version: versionJson(modelVersion) };
      }),
    },
    "model-versions/set-tag": {
      POST: on("setModelVersionTag", async (params, ctx) => {
        await registry.setModelVersionTag(
          create(SetModelVersionTagRequestSchema, {
            name: stringField(params, "name"),
            version: versionField(params),
            key: stringField(params, "key"),
            value: stringField(params, "value"),
          }),
          ctx,
        );
        return {};
      }),
    },
    "model-versions/delete-tag": {
      DELETE: on("deleteModelVersionTag", async (params, ctx) => {
        await registry.deleteModelVersionTag(
          create(DeleteModelVersionTagRequestSchema, {
            name: stringField(params, "name"),
            version: versionField(params),
            key: stringField(params, "key"),
          }),
          ctx,
        );
        return {};
      }),
    },
    "model-versions/get-download-uri": {
      GET: on("getModelVersion", async (params, ctx) => {
        const { modelVersion } = create(
          GetModelVersionResponseSchema,
          await registry.getModelVersion(
            create(GetModelVersionRequestSchema, { name: stringField(params, "name"), version: versionField(params) }),
            ctx,
          ),
        );
        if (modelVersion === undefined) throw commonErrors.internal(new Error("GetModelVersion answered no version"));
        return { artifact_uri: `mlflow-artifacts:/${versionDirectory(modelVersion.name, modelVersion.version)}` };
      }),
    },
  };
}
