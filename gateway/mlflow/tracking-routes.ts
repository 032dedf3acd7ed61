/**
 * MLflow's tracking endpoints (`/api/2.0/mlflow/experiments/*`, `runs/*`, `metrics/get-history`,
 * `artifacts/list`), each a thin translation onto one TrackingService call: MLflow's request
 * fields to the request message, the answer to MLflow's JSON. The rules (names, keys, values,
 * limits, immutability of params, lifecycle) are the service's; only MLflow's wire conventions
 * live here: `run_uuid` for `run_id`, `user_id` kept as the `mlflow.user` tag, `mlflow-artifacts:`
 * locations, `runs/log-model`, which MLflow itself records as the run's
 * `mlflow.log-model.history` tag, and `runs/log-inputs`, whose datasets (mlpipe has no dataset
 * entity) are kept the same way in a run tag and shown as the run's `inputs`.
 */
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { commonErrors } from "../../core/errors/index.js";
import {
  CreateExperimentRequestSchema,
  CreateExperimentResponseSchema,
  CreateRunRequestSchema,
  CreateRunResponseSchema,
  DeleteExperimentRequestSchema,
  DeleteExperimentTagRequestSchema,
  DeleteRunRequestSchema,
  DeleteRunTagRequestSchema,
  GetExperimentByNameRequestSchema,
  GetExperimentByNameResponseSchema,
  GetExperimentRequestSchema,
  GetExperimentResponseSchema,
  GetMetricHistoryRequestSchema,
  GetMetricHistoryResponseSchema,
  GetRunRequestSchema,
  GetRunResponseSchema,
  ListArtifactsRequestSchema,
  ListArtifactsResponseSchema,
  LogBatchRequestSchema,
  LogMetricRequestSchema,
  LogParamRequestSchema,
  MetricSchema,
  ParamSchema,
  RestoreExperimentRequestSchema,
  RestoreRunRequestSchema,
  type Run,
  SearchExperimentsRequestSchema,
  SearchExperimentsResponseSchema,
  SearchRunsRequestSchema,
  SearchRunsResponseSchema,
  SetExperimentTagRequestSchema,
  SetRunTagRequestSchema,
  TagSchema,
  TrackingService,
  UpdateExperimentRequestSchema,
  UpdateRunRequestSchema,
  UpdateRunResponseSchema,
  ViewType,
} from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import type { JsonRouteTable } from "../protocol-json/json-router.js";
import type { ArtifactLocations } from "./artifact-locations.js";
import { type MlflowEndpoint, mlflowEndpoint } from "./mlflow-call.js";
import {
  keyValueList,
  keyValueMap,
  type MlflowParams,
  missing,
  objectList,
  optionalDouble,
  optionalEnum,
  optionalInt64,
  optionalObject,
  optionalString,
  pageSizeField,
  runIdField,
  stringField,
  stringList,
} from "./mlflow-params.js";
import {
  compact,
  datasetInputs,
  datasetInputsTag,
  experimentJson,
  fileInfoJson,
  type JsonObject,
  metricJson,
  runInfoJson,
  runJson,
  runStatusByName,
  runStatusByNumber,
  userTag,
  viewTypeByName,
  viewTypeByNumber,
} from "./tracking-json.js";

/** What the tracking endpoints need. */
export interface MlflowTrackingRoutesOptions {
  /** The TrackingService implementation the Connect router serves (with whatever wraps it). */
  readonly tracking: ServiceImpl<typeof TrackingService>;
  readonly locations: ArtifactLocations;
  /** Largest request body in bytes (MAX_REQUEST_BYTES). */
  readonly maxRequestBytes: number;
}

/** The run tag in which MLflow records the models logged to a run (`runs/log-model`). */
export const loggedModelsTag = "mlflow.log-model.history";

/** Fields of a logged model that MLflow leaves out of the history tag (Model.get_tags_dict). */
const untaggedModelFields = new Set(["signature", "saved_input_example_info"]);

/** Fields `runs/log-model` requires in `model_json`, as MLflow's server does. */
const requiredModelFields = ["artifact_path", "flavors", "utc_time_created", "run_id"];

/** The tracking endpoints by path below `/api/2.0/mlflow/`. */
export function mlflowTrackingRoutes(options: MlflowTrackingRoutesOptions): JsonRouteTable {
  const { tracking, locations, maxRequestBytes } = options;
  const on = (method: keyof typeof TrackingService.method, endpoint: MlflowEndpoint) =>
    mlflowEndpoint(TrackingService.method[method], maxRequestBytes, endpoint);

  const getRun = async (runId: string, ctx: HandlerContext): Promise<Run> => {
    const { run } = create(GetRunResponseSchema, await tracking.getRun(create(GetRunRequestSchema, { runId }), ctx));
    if (run === undefined) throw commonErrors.internal(new Error("GetRun answered without a run"));
    return run;
  };

  /** A request's artifact location in the server's terms (a proxied URI becomes the store's). */
  const artifactLocation = (params: MlflowParams): string => {
    const given = stringField(params, "artifact_location");
    const proxied = locations.proxiedPath(given);
    return proxied === undefined ? given : locations.uriOf(proxied);
  };

  const experimentSearch: MlflowEndpoint = async (params, ctx) => {
    const page = create(
      SearchExperimentsResponseSchema,
      await tracking.searchExperiments(
        create(SearchExperimentsRequestSchema, {
          filter: stringField(params, "filter"),
          maxResults: pageSizeField(params),
          orderBy: stringList(params, "order_by"),
          pageToken: stringField(params, "page_token"),
          viewType: optionalEnum(params, "view_type", viewTypeByName, viewTypeByNumber) ?? ViewType.ACTIVE_ONLY,
        }),
        ctx,
      ),
    );
    return {
      experiments: page.experiments.map((e) => experimentJson(e, locations)),
      ...(page.nextPageToken === "" ? {} : { next_page_token: page.nextPageToken }),
    };
  };

  return {
    "experiments/create": {
      POST: on("createExperiment", async (params, ctx) => {
        const { experiment } = create(
          CreateExperimentResponseSchema,
          await tracking.createExperiment(
            create(CreateExperimentRequestSchema, {
              name: stringField(params, "name"),
              artifactLocation: artifactLocation(params),
              tags: keyValueMap(params, "tags"),
            }),
            ctx,
          ),
        );
        return { experiment_id: experiment?.experimentId ?? "" };
      }),
    },
    "experiments/get": {
      GET: on("getExperiment", async (params, ctx) => {
        const { experiment } = create(
          GetExperimentResponseSchema,
          await tracking.getExperiment(
            create(GetExperimentRequestSchema, { experimentId: stringField(params, "experiment_id") }),
            ctx,
          ),
        );
        return { experiment: experiment === undefined ? {} : experimentJson(experiment, locations) };
      }),
    },
    "experiments/get-by-name": {
      GET: on("getExperimentByName", async (params, ctx) => {
        const { experiment } = create(
          GetExperimentByNameResponseSchema,
          await tracking.getExperimentByName(
            create(GetExperimentByNameRequestSchema, { name: stringField(params, "experiment_name") }),
            ctx,
          ),
        );
        return { experiment: experiment === undefined ? {} : experimentJson(experiment, locations) };
      }),
    },
    "experiments/search": {
      GET: on("searchExperiments", experimentSearch),
      POST: on("searchExperiments", experimentSearch),
    },
    "experiments/update": {
      POST: on("updateExperiment", async (params, ctx) => {
        await tracking.updateExperiment(
          create(UpdateExperimentRequestSchema, {
            experimentId: stringField(params, "experiment_id"),
            newName: stringField(params, "new_name"),
          }),
          ctx,
        );
        return {};
      }),
    },
    "experiments/delete": {
      POST: on("deleteExperiment", async (params, ctx) => {
        const experimentId = stringField(params, "experiment_id");
        await tracking.deleteExperiment(create(DeleteExperimentRequestSchema, { experimentId }), ctx);
        return {};
      }),
    },
    "experiments/restore": {
      POST: on("restoreExperiment", async (params, ctx) => {
        const experimentId = stringField(params, "experiment_id");
        await tracking.restoreExperiment(create(RestoreExperimentRequestSchema, { experimentId }), ctx);
        return {};
      }),
    },
    "experiments/set-experiment-tag": {
      POST: on("setExperimentTag", async (params, ctx) => {
        await tracking.setExperimentTag(
          create(SetExperimentTagRequestSchema, {
            experimentId: stringField(params, "experiment_id"),
            key: stringField(params, "key"),
            value: stringField(params, "value"),
          }),
          ctx,
        );
        return {};
      }),
    },
    "experiments/delete-experiment-tag": {
      POST: on("deleteExperimentTag", async (params, ctx) => {
        await tracking.deleteExperimentTag(
          create(DeleteExperimentTagRequestSchema, {
            experimentId: stringField(params, "experiment_id"),
            key: stringField(params, "key"),
          }),
          ctx,
        );
        return {};
      }),
    },

    "runs/create": {
      POST: on("createRun", async (params, ctx) => {
        const tags = keyValueMap(params, "tags");
        // MLflow 1.x clients send the user only as `user_id`: keep it where MLflow 2.x keeps it.
        const userId = stringField(params, "user_id");
        if (userId !== "" && tags[userTag] === undefined) tags[userTag] = userId;
        const { run } = create(
          CreateRunResponseSchema,
          await tracking.createRun(
            create(CreateRunRequestSchema, {
              experimentId: stringField(params, "experiment_id"),
              runName: stringField(params, "run_name") || (tags["mlflow.runName"] ?? ""),
              startTime: optionalInt64(params, "start_time") ?? 0n,
              tags: Object.entries(tags).map(([key, value]) => create(TagSchema, { key, value })),
            }),
            ctx,
          ),
        );
        return { run: run === undefined ? {} : runJson(run, locations) };
      }),
    },
    "runs/get": {
      GET: on("getRun", async (params, ctx) => ({ run: runJson(await getRun(runIdField(params), ctx), locations) })),
    },
    "runs/update": {
      POST: on("updateRun", async (params, ctx) => {
        const runName = optionalString(params, "run_name");
        const endTime = optionalInt64(params, "end_time");
        const status = optionalEnum(params, "status", runStatusByName, runStatusByNumber);
        const { runInfo } = create(
          UpdateRunResponseSchema,
          await tracking.updateRun(
            create(UpdateRunRequestSchema, {
              runId: runIdField(params),
              ...(status === undefined ? {} : { status }),
              ...(endTime === undefined ? {} : { endTime }),
              ...(runName === undefined ? {} : { runName }),
            }),
            ctx,
          ),
        );
        return { run_info: runInfo === undefined ? {} : runInfoJson(runInfo, locations) };
      }),
    },
    "runs/delete": {
      POST: on("deleteRun", async (params, ctx) => {
        await tracking.deleteRun(create(DeleteRunRequestSchema, { runId: runIdField(params) }), ctx);
        return {};
      }),
    },
    "runs/restore": {
      POST: on("restoreRun", async (params, ctx) => {
        await tracking.restoreRun(create(RestoreRunRequestSchema, { runId: runIdField(params) }), ctx);
        return {};
      }),
    },
    "runs/search": {
      POST: on("searchRuns", async (params, ctx) => {
        const page = create(
          SearchRunsResponseSchema,
          await tracking.searchRuns(
            create(SearchRunsRequestSchema, {
              experimentIds: stringList(params, "experiment_ids"),
              filter: stringField(params, "filter"),
              runViewType:
                optionalEnum(params, "run_view_type", viewTypeByName, viewTypeByNumber) ?? ViewType.ACTIVE_ONLY,
              maxResults: pageSizeField(params),
              orderBy: stringList(params, "order_by"),
              pageToken: stringField(params, "page_token"),
            }),
            ctx,
          ),
        );
        return {
          runs: page.runs.map((r) => runJson(r, locations)),
          ...(page.nextPageToken === "" ? {} : { next_page_token: page.nextPageToken }),
        };
      }),
    },
    "runs/log-metric": {
      POST: on("logMetric", async (params, ctx) => {
        await tracking.logMetric(
          create(LogMetricRequestSchema, { runId: runIdField(params), metric: metricOf(params, "") }),
          ctx,
        );
        return {};
      }),
    },
    "runs/log-parameter": {
      POST: on("logParam", async (params, ctx) => {
        await tracking.logParam(
          create(LogParamRequestSchema, {
            runId: runIdField(params),
            key: stringField(params, "key"),
            value: stringField(params, "value"),
          }),
          ctx,
        );
        return {};
      }),
    },
    "runs/set-tag": {
      POST: on("setRunTag", async (params, ctx) => {
        await tracking.setRunTag(
          create(SetRunTagRequestSchema, {
            runId: runIdField(params),
            key: stringField(params, "key"),
            value: stringField(params, "value"),
          }),
          ctx,
        );
        return {};
      }),
    },
    "runs/delete-tag": {
      POST: on("deleteRunTag", async (params, ctx) => {
        await tracking.deleteRunTag(
          create(DeleteRunTagRequestSchema, { runId: runIdField(params), key: stringField(params, "key") }),
          ctx,
        );
        return {};
      }),
    },
    "runs/log-batch": {
      POST: on("logBatch", async (params, ctx) => {
        await tracking.logBatch(
          create(LogBatchRequestSchema, {
            runId: runIdField(params),
            metrics: objectList(params, "metrics").map((m, i) => metricOf(m, `metrics[${i}].`)),
            params: keyValueList(params, "params").map((p) => create(ParamSchema, p)),
            tags: keyValueList(params, "tags").map((t) => create(TagSchema, t)),
          }),
          ctx,
        );
        return {};
      }),
    },
    "runs/log-model": {
      POST: on("setRunTag", async (params, ctx) => {
        const runId = runIdField(params);
        const model = modelOf(stringField(params, "model_json") || missing("model_json"));
        const run = await getRun(runId, ctx);
        const history = loggedModels(run.data?.tags[loggedModelsTag]);
        history.push(model);
        await tracking.setRunTag(
          create(SetRunTagRequestSchema, { runId, key: loggedModelsTag, value: JSON.stringify(history) }),
          ctx,
        );
        return {};
      }),
    },
    "runs/log-inputs": {
      POST: on("setRunTag", async (params, ctx) => {
        const runId = runIdField(params);
        const given = objectList(params, "datasets").map((d, i) => datasetInputOf(d, `datasets[${i}]`));
        const run = await getRun(runId, ctx);
        const kept = datasetInputs(run.data?.tags[datasetInputsTag]);
        // As MLflow's stores do, a dataset (name + digest) logged again is kept once, its tags updated.
        for (const input of given) {
          const same = kept.findIndex((k) => datasetKey(k) === datasetKey(input));
          if (same < 0) kept.push(input);
          else kept[same] = input;
        }
        if (given.length > 0) {
          await tracking.setRunTag(
            create(SetRunTagRequestSchema, { runId, key: datasetInputsTag, value: JSON.stringify(kept) }),
            ctx,
          );
        }
        return {};
      }),
    },
    "metrics/get-history": {
      GET: on("getMetricHistory", async (params, ctx) => {
        const page = create(
          GetMetricHistoryResponseSchema,
          await tracking.getMetricHistory(
            create(GetMetricHistoryRequestSchema, {
              runId: runIdField(params),
              metricKey: stringField(params, "metric_key"),
              maxResults: pageSizeField(params),
              pageToken: stringField(params, "page_token"),
            }),
            ctx,
          ),
        );
        return {
          metrics: page.metrics.map(metricJson),
          ...(page.nextPageToken === "" ? {} : { next_page_token: page.nextPageToken }),
        };
      }),
    },
    "artifacts/list": {
      GET: on("listArtifacts", async (params, ctx) => {
        const listed = create(
          ListArtifactsResponseSchema,
          await tracking.listArtifacts(
            create(ListArtifactsRequestSchema, { runId: runIdField(params), path: stringField(params, "path") }),
            ctx,
          ),
        );
        return {
          root_uri: locations.shown(listed.rootUri),
          files: listed.files.map((f) => fileInfoJson(f)),
        };
      }),
    },
  };
}

/** A metric point from MLflow's fields (`value` is required; `timestamp` 0 or absent means now). */
function metricOf(params: MlflowParams, prefix: string) {
  const value = optionalDouble(params, "value");
  if (value === undefined) missing(`${prefix}value`);
  return create(MetricSchema, {
    key: stringField(params, "key"),
    value,
    timestamp: optionalInt64(params, "timestamp") ?? 0n,
    step: optionalInt64(params, "step") ?? 0n,
  });
}

/** Fields MLflow requires of a logged dataset (mlflow/server/handlers.py `_log_inputs`). */
const requiredDatasetFields = ["name", "digest", "source_type", "source"];

/** A `DatasetInput` of a `runs/log-inputs` request, checked and kept in MLflow's JSON shape. */
function datasetInputOf(input: MlflowParams, field: string): JsonObject {
  const dataset = optionalObject(input, "dataset") ?? missing(`${field}.dataset`);
  const kept: JsonObject = {};
  for (const name of requiredDatasetFields) {
    kept[name] = stringField(dataset, name) || missing(`${field}.dataset.${name}`);
  }
  for (const name of ["schema", "profile"]) {
    const value = optionalString(dataset, name);
    if (value !== undefined) kept[name] = value;
  }
  return compact({ tags: keyValueList(input, "tags"), dataset: kept });
}

/** The identity of a logged dataset: its name and digest. */
function datasetKey(input: JsonObject): string {
  const dataset = input.dataset;
  if (typeof dataset !== "object" || dataset === null) return "";
  const { name, digest } = dataset as JsonObject;
  return JSON.stringify([name, digest]);
}

/** The model a `runs/log-model` request logs, checked as MLflow's server checks it. */
function modelOf(json: string): Record<string, unknown> {
  let model: unknown;
  try {
    model = JSON.parse(json);
  } catch {
    throw commonErrors.invalidArgument("model_json", "is not valid JSON");
  }
  if (typeof model !== "object" || model === null || Array.isArray(model)) {
    throw commonErrors.invalidArgument("model_json", "must be a JSON object (an MLmodel file)");
  }
  const absent = requiredModelFields.filter((f) => !(f in model));
  if (absent.length > 0) {
    throw commonErrors.invalidArgument("model_json", `is missing mandatory fields: ${absent.join(", ")}`);
  }
  return Object.fromEntries(Object.entries(model).filter(([key]) => !untaggedModelFields.has(key)));
}

/** The models already in a run's history tag; a tag that is not a JSON list starts a new history. */
function loggedModels(tag: string | undefined): unknown[] {
  if (tag === undefined) return [];
  try {
    const parsed: unknown = JSON.parse(tag);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}
