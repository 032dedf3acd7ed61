/** `mlpipe versions list <model>`. */
import { toJson } from "@bufbuild/protobuf";
import { ModelVersionSchema, ModelVersionStatus, Stage } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { createCliClient } from "../cli-client.js";
import type { Command } from "../command.js";
import { formatBytes, formatTime, truncate } from "../display-values.js";
import { truncatedNote, writeJson } from "../output.js";
import { collectPages, parseLimit } from "../paging.js";
import { renderTable } from "../table.js";

const stageLabels: Readonly<Record<number, string>> = {
  [Stage.NONE]: "None",
  [Stage.STAGING]: "Staging",
  [Stage.PRODUCTION]: "Production",
  [Stage.ARCHIVED]: "Archived",
};

/** The `versions list` command. */
export const versionsListCommand: Command = {
  name: "versions list",
  section: "Model registry",
  summary: "list the versions of a model (newest first) with stage, aliases and source run",
  arguments: [{ name: "model", description: "registered model name" }],
  options: {
    limit: { type: "string", valueName: "N", description: "at most N versions (default 100)" },
  },
  examples: ["versions list iris-classifier"],
  async run({ io, args, json, registryUrl }) {
    const [name = ""] = args.positionals;
    const limit = parseLimit(args.string("limit"), 100);
    const client = createCliClient(registryUrl(), io.env);
    // NOT_FOUND for an unknown model, rather than an empty list.
    await client.registry.getRegisteredModel({ name });
    const { items, truncated } = await collectPages(limit, 1000, async (pageToken, maxResults) => {
      const r = await client.registry.searchModelVersions({
        filter: `name = '${name.replaceAll("'", "''")}'`,
        orderBy: ["version DESC"],
        maxResults,
        pageToken,
      });
      return { items: r.modelVersions, nextPageToken: r.nextPageToken };
    });
    if (json) {
      writeJson(io, { modelVersions: items.map((v) => toJson(ModelVersionSchema, v)), truncated });
      return undefined;
    }
    const rows = items.map((v) => [
      String(v.version),
      stageLabels[v.currentStage] ?? "-",
      v.status === ModelVersionStatus.READY ? "READY" : (ModelVersionStatus[v.status] ?? ""),
      v.aliases.join(",") || "-",
      formatTime(v.creationTime),
      v.status === ModelVersionStatus.READY ? formatBytes(v.artifactSize) : "-",
      v.runId || "-",
      truncate(v.description, 48),
    ]);
    io.stdout.write(
      renderTable(["VERSION", "STAGE", "STATUS", "ALIASES", "CREATED", "SIZE", "RUN ID", "DESCRIPTION"], rows),
    );
    truncatedNote(io, truncated, limit, "versions");
    return undefined;
  },
};
