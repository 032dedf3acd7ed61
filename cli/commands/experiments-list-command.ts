/** `mlpipe experiments list`. */
import { toJson } from "@bufbuild/protobuf";
import { ExperimentSchema, LifecycleStage, ViewType } from "../../gen/mlpipe/tracking/v1/tracking_pb.js";
import { createCliClient } from "../cli-client.js";
import type { Command } from "../command.js";
import { formatTime } from "../display-values.js";
import { truncatedNote, writeJson } from "../output.js";
import { collectPages, parseLimit } from "../paging.js";
import { renderTable } from "../table.js";

/** The `experiments list` command. */
export const experimentsListCommand: Command = {
  name: "experiments list",
  section: "Tracking",
  summary: "list experiments (newest first)",
  arguments: [],
  options: {
    filter: { type: "string", valueName: "EXPR", description: "e.g. \"name LIKE 'iris%' AND tags.team = 'ml'\"" },
    all: { type: "boolean", description: "include deleted experiments" },
    limit: { type: "string", valueName: "N", description: "at most N experiments (default 100)" },
  },
  examples: ["experiments list", "experiments list --filter \"name LIKE 'iris%'\" --json"],
  async run({ io, args, json, registryUrl }) {
    const limit = parseLimit(args.string("limit"), 100);
    const client = createCliClient(registryUrl(), io.env);
    const { items, truncated } = await collectPages(limit, 1000, async (pageToken, maxResults) => {
      const r = await client.tracking.searchExperiments({
        filter: args.string("filter") ?? "",
        maxResults,
        pageToken,
        viewType: args.boolean("all") ? ViewType.ALL : ViewType.ACTIVE_ONLY,
      });
      return { items: r.experiments, nextPageToken: r.nextPageToken };
    });
    if (json) {
      writeJson(io, { experiments: items.map((e) => toJson(ExperimentSchema, e)), truncated });
      return undefined;
    }
    const rows = items.map((e) => [
      e.experimentId,
      e.name,
      e.lifecycleStage === LifecycleStage.DELETED ? "deleted" : "active",
      formatTime(e.creationTime),
      e.artifactLocation,
    ]);
    io.stdout.write(renderTable(["ID", "NAME", "STATE", "CREATED", "ARTIFACT LOCATION"], rows));
    truncatedNote(io, truncated, limit, "experiments");
    return undefined;
  },
};
