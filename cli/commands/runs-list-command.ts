/** `mlpipe runs list --experiment X`: runs with their params and latest metrics. */
import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { commonErrors } from "../../core/errors/common-errors.js";
import { type Experiment, type Run, RunSchema, RunStatus } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import type { MlpipeClient } from "../../sdk/index.js";
import { createCliClient } from "../cli-client.js";
import type { Command } from "../command.js";
import { formatMetric, formatTime, truncate } from "../display-values.js";
import { truncatedNote, writeJson } from "../output.js";
import { collectPages, parseLimit } from "../paging.js";
import { renderTable } from "../table.js";

/** Longest param value shown in a table cell; --json shows them whole. */
const maxParamWidth = 24;

/** The `runs list` command. */
export const runsListCommand: Command = {
  name: "runs list",
  section: "Tracking",
  summary: "list the runs of an experiment with their params and latest metrics",
  details: [
    "One row per run (newest first, or --order-by), one column per metric (metrics.<key>, the",
    "latest point) and per param (params.<key>). --metrics and --params choose the columns; long",
    "param values are cut in the table, whole with --json.",
  ].join("\n"),
  arguments: [],
  options: {
    experiment: { type: "string", valueName: "NAME|ID", description: "the experiment, by name or id (required)" },
    filter: { type: "string", valueName: "EXPR", description: "e.g. \"metrics.accuracy > 0.9 AND params.lr = '0.1'\"" },
    "order-by": {
      type: "string",
      valueName: "KEY",
      description: 'e.g. "metrics.accuracy DESC" (default start_time DESC)',
    },
    metrics: { type: "string", valueName: "K1,K2", description: "metric columns to show (default all)" },
    params: { type: "string", valueName: "K1,K2", description: "param columns to show (default all)" },
    limit: { type: "string", valueName: "N", description: "at most N runs (default 100)" },
  },
  examples: [
    "runs list --experiment iris",
    "runs list --experiment iris --filter 'metrics.final_accuracy > 0.95' --json",
  ],
  async run({ io, args, json, registryUrl }) {
    const experimentArg = args.string("experiment");
    if (experimentArg === undefined) throw commonErrors.invalidArgument("--experiment", "required (a name or an id)");
    const limit = parseLimit(args.string("limit"), 100);
    const client = createCliClient(registryUrl(), io.env);
    const experiment = await findExperiment(client, experimentArg);
    const orderBy = args.string("order-by");
    const { items, truncated } = await collectPages(limit, 50_000, async (pageToken, maxResults) => {
      const r = await client.tracking.searchRuns({
        experimentIds: [experiment.experimentId],
        filter: args.string("filter") ?? "",
        maxResults,
        pageToken,
        orderBy: orderBy === undefined ? [] : [orderBy],
      });
      return { items: r.runs, nextPageToken: r.nextPageToken };
    });
    if (json) {
      writeJson(io, { experimentId: experiment.experimentId, runs: items.map((r) => toJson(RunSchema, r)), truncated });
      return undefined;
    }
    const metricKeys = chosenKeys(args.string("metrics"), items, (r) => (r.data?.metrics ?? []).map((m) => m.key));
    const paramKeys = chosenKeys(args.string("params"), items, (r) => Object.keys(r.data?.params ?? {}));
    const headers = [
      "RUN ID",
      "NAME",
      "STATUS",
      "STARTED",
      ...metricKeys.map((k) => `metrics.${k}`),
      ...paramKeys.map((k) => `params.${k}`),
    ];
    const rows = items.map((run) => {
      const info = run.info;
      const metrics = new Map((run.data?.metrics ?? []).map((m) => [m.key, m.value]));
      const params = run.data?.params ?? {};
      return [
        info?.runId ?? "",
        info?.runName ?? "",
        RunStatus[info?.status ?? RunStatus.UNSPECIFIED] ?? "",
        formatTime(info?.startTime ?? 0n),
        ...metricKeys.map((k) => {
          const v = metrics.get(k);
          return v === undefined ? "-" : formatMetric(v);
        }),
        ...paramKeys.map((k) => truncate(params[k] ?? "-", maxParamWidth)),
      ];
    });
    io.stdout.write(`experiment ${experiment.name} (id ${experiment.experimentId})\n`);
    io.stdout.write(renderTable(headers, rows));
    truncatedNote(io, truncated, limit, "runs");
    return undefined;
  },
};

/** The active experiment named `nameOrId`, else the experiment with that id. */
async function findExperiment(client: MlpipeClient, nameOrId: string): Promise<Experiment> {
  try {
    const byName = await client.tracking.getExperimentByName({ name: nameOrId });
    if (byName.experiment !== undefined) return byName.experiment;
  } catch (err) {
    if (ConnectError.from(err).code !== Code.NotFound || !/^\d+$/.test(nameOrId)) throw err;
  }
  const byId = await client.tracking.getExperiment({ experimentId: nameOrId });
  if (byId.experiment === undefined) throw commonErrors.internal(new Error("GetExperiment answered no experiment"));
  return byId.experiment;
}

/** The keys named in `flag` (comma-separated), else every key any run has, sorted. */
function chosenKeys(flag: string | undefined, runs: readonly Run[], keysOf: (run: Run) => string[]): string[] {
  if (flag !== undefined) {
    return flag
      .split(",")
      .map((k) => k.trim())
      .filter((k) => k !== "");
  }
  return [...new Set(runs.flatMap(keysOf))].sort();
}
