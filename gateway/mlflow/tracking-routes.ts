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
  type Experiment,
  MetricSchema,
  ParamSchema,
  type Run,
  TagSchema,
  TrackingService,
  ViewType,
} from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import type { JsonRouteTable } from "../protocol-json/json-router.js";
import type { BodyLimits } from "../protocol-json/request-body.js";
import type { ArtifactLocations } from "./artifact-locations.js";
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
import { callUnary, mlflowRoutesOf } from "./mlflow-rpc.js";
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
  /** Bounds of request bodies: size (MAX_REQUEST_BYTES) and time to arrive (REQUEST_READ_TIMEOUT_MS). */
  readonly body: BodyLimits;
}

/** The run tag in which MLflow records the models logged to a run (`runs/log-model`). */
export const loggedModelsTag = "mlflow.log-model.history";

/** Fields of a logged model that MLflow leaves out of the history tag (Model.get_tags_dict). */
const untaggedModelFields = new Set(["signature", "saved_input_example_info"]);

/** Fields `runs/log-model` requires in `model_json`, as MLflow's server does. */
const requiredModelFields = ["artifact_path", "flavors", "utc_time_created", "run_id"];

/** The tracking endpoints by path below `/api/2.0/mlflow/`. */
export function mlflowTrackingRoutes(options: MlflowTrackingRoutesOptions): JsonRouteTable {
  const { tracking, locations, body } = options;
  const M = TrackingService.method;
  const { on, rpc } = mlflowRoutesOf(tracking, body);

  const getRun = async (runId: string, ctx: HandlerContext): Promise<Run> => {
    const { run } = await callUnary(tracking, M.getRun, { runId }, ctx);
    if (run === undefined) throw commonErrors.internal(new Error("GetRun answered without a run"));
    return run;
  };

  /** A request's artifact location in the server's terms (a proxied URI becomes the store's). */
  const artifactLocation = (params: MlflowParams): string => {
    const given = stringField(params, "artifact_location");
    const proxied = locations.proxiedPath(given);
    return proxied === undefined ? given : locations.uriOf(proxied);
  };

  /** The answer of the calls that give one experiment. */
  const experimentAnswer = ({ experiment }: { experiment?: Experiment | undefined }) => ({
    experiment: experiment === undefined ? {} : experimentJson(experiment, locations),
  });
  /** A request naming an experiment by id. */
  const experimentOf = (params: MlflowParams) => ({ experimentId: stringField(params, "experiment_id") });
  /** A request naming a run by id (`run_id` or MLflow's older `run_uuid`). */
  const runOf = (params: MlflowParams) => ({ runId: runIdField(params) });
  /** Sets a run tag: the call `runs/log-model` and `runs/log-inputs` end with. */
  const setRunTag = (runId: string, key: string, value: string, ctx: HandlerContext) =>
    callUnary(tracking, M.setRunTag, { runId, key, value }, ctx);

  const experimentSearch = rpc(
    M.searchExperiments,
    (params) => ({
      filter: stringField(params, "filter"),
      maxResults: pageSizeField(params),
      orderBy: stringList(params, "order_by"),
      pageToken: stringField(params, "page_token"),
      viewType: optionalEnum(params, "view_type", viewTypeByName, viewTypeByNumber) ?? ViewType.ACTIVE_ONLY,
    }),
    (page) => ({
      experiments: page.experiments.map((e) => experimentJson(e, locations)),
      ...(page.nextPageToken === "" ? {} : { next_page_token: page.nextPageToken }),
    }),
  );

  return {
    "experiments/create": {
      POST: rpc(
        M.createExperiment,
        (params) => ({
          name: stringField(params, "name"),
          artifactLocation: artifactLocation(params),
          tags: keyValueMap(params, "tags"),
        }),
        ({ experiment }) => ({ experiment_id: experiment?.experimentId ?? "" }),
      ),
    },
    "experiments/get": {
      GET: rpc(M.getExperiment, experimentOf, experimentAnswer),
    },
    "experiments/get-by-name": {
      GET: rpc(M.getExperimentByName, (params) => ({ name: stringField(params, "experiment_name") }), experimentAnswer),
    },
    "experiments/search": {
      GET: experimentSearch,
      POST: experimentSearch,
    },
    "experiments/update": {
      POST: rpc(M.updateExperiment, (params) => ({
        experimentId: stringField(params, "experiment_id"),
        newName: stringField(params, "new_name"),
      })),
    },
    "experiments/delete": {
      POST: rpc(M.deleteExperiment, experimentOf),
    },
    "experiments/restore": {
      POST: rpc(M.restoreExperiment, experimentOf),
    },
    "experiments/set-experiment-tag": {
      POST: rpc(M.setExperimentTag, (params) => ({
        experimentId: stringField(params, "experiment_id"),
        key: stringField(params, "key"),
        value: stringField(params, "value"),
      })),
    },
    "experiments/delete-experiment-tag": {
      POST: rpc(M.deleteExperimentTag, (params) => ({
        experimentId: stringField(params, "experiment_id"),
        key: stringField(params, "key"),
      })),
    },

    "runs/create": {
      POST: rpc(
        M.createRun,
        (params) => {
          const tags = keyValueMap(params, "tags");
          // MLflow 1.x clients send the user only as `user_id`: keep it where MLflow 2.x keeps it.
          const userId = stringField(params, "user_id");
          if (userId !== "" && tags[userTag] === undefined) tags[userTag] = userId;
          return {
            experimentId: stringField(params, "experiment_id"),
            runName: stringField(params, "run_name") || (tags["mlflow.runName"] ?? ""),
            startTime: optionalInt64(params, "start_time") ?? 0n,
            tags: Object.entries(tags).map(([key, value]) => create(TagSchema, { key, value })),
          };
        },
        ({ run }) => ({ run: run === undefined ? {} : runJson(run, locations) }),
      ),
    },
    "runs/get": {
      GET: on(M.getRun, async (params, ctx) => ({ run: runJson(await getRun(runIdField(params), ctx), locations) })),
    },
    "runs/update": {
      POST: rpc(
        M.updateRun,
        (params) => {
          const runName = optionalString(params, "run_name");
          const endTime = optionalInt64(params, "end_time");
          const status = optionalEnum(params, "status", runStatusByName, runStatusByNumber);
          return {
            runId: runIdField(params),
            ...(status === undefined ? {} : { status }),
            ...(endTime === undefined ? {} : { endTime }),
            ...(runName === undefined ? {} : { runName }),
          };
        },
        ({ runInfo }) => ({ run_info: runInfo === undefined ? {} : runInfoJson(runInfo, locations) }),
      ),
    },
    "runs/delete": {
      POST: rpc(M.deleteRun, runOf),
    },
    "runs/restore": {
      POST: rpc(M.restoreRun, runOf),
    },
    "runs/search": {
      POST: rpc(
        M.searchRuns,
        (params) => ({
          experimentIds: stringList(params, "experiment_ids"),
          filter: stringField(params, "filter"),
          runViewType: optionalEnum(params, "run_view_type", viewTypeByName, viewTypeByNumber) ?? ViewType.ACTIVE_ONLY,
          maxResults: pageSizeField(params),
          orderBy: stringList(params, "order_by"),
          pageToken: stringField(params, "page_token"),
        }),
        (page) => ({
          runs: page.runs.map((r) => runJson(r, locations)),
          ...(page.nextPageToken === "" ? {} : { next_page_token: page.nextPageToken }),
        }),
      ),
    },
    "runs/log-metric": {
      POST: rpc(M.logMetric, (params) => ({ runId: runIdField(params), metric: metricOf(params, "") })),
    },
    "runs/log-parameter": {
      POST: rpc(M.logParam, (params) => ({
        runId: runIdField(params),
        key: stringField(params, "key"),
        value: stringField(params, "value"),
      })),
    },
    "runs/set-tag": {
      POST: rpc(M.setRunTag, (params) => ({
        runId: runIdField(params),
        key: stringField(params, "key"),
        value: stringField(params, "value"),
      })),
    },
    "runs/delete-tag": {
      POST: rpc(M.deleteRunTag, (params) => ({ runId: runIdField(params), key: stringField(params, "key") })),
    },
    "runs/log-batch": {
      POST: rpc(M.logBatch, (params) => ({
        runId: runIdField(params),
        metrics: objectList(params, "metrics").map((m, i) => metricOf(m, `metrics[${i}].`)),
        params: keyValueList(params, "params").map((p) => create(ParamSchema, p)),
        tags: keyValueList(params, "tags").map((t) => create(TagSchema, t)),
      })),
    },
    "runs/log-model": {
      POST: on(M.setRunTag, async (params, ctx) => {
        const runId = runIdField(params);
        const model = modelOf(stringField(params, "model_json") || missing("model_json"));
        const run = await getRun(runId, ctx);
        const history = loggedModels(run.data?.tags[loggedModelsTag]);
        history.push(model);
        await setRunTag(runId, loggedModelsTag, JSON.stringify(history), ctx);
        return {};
      }),
    },
    "runs/log-inputs": {
      POST: on(M.setRunTag, async (params, ctx) => {
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
        if (given.length > 0) await setRunTag(runId, datasetInputsTag, JSON.stringify(kept), ctx);
        return {};
      }),
    },
    "metrics/get-history": {
      GET: rpc(
        M.getMetricHistory,
        (params) => ({
          runId: runIdField(params),
          metricKey: stringField(params, "metric_key"),
          maxResults: pageSizeField(params),
          pageToken: stringField(params, "page_token"),
        }),
        (page) => ({
          metrics: page.metrics.map(metricJson),
          ...(page.nextPageToken === "" ? {} : { next_page_token: page.nextPageToken }),
        }),
      ),
    },
    "artifacts/list": {
      GET: rpc(
        M.listArtifacts,
        (params) => ({ runId: runIdField(params), path: stringField(params, "path") }),
        (listed) => ({
          root_uri: locations.shown(listed.rootUri),
          files: listed.files.map((f) => fileInfoJson(f)),
        }),
      ),
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
