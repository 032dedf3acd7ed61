/** `mlpipe models list`: registered models with the versions in Staging and Production and their aliases. */
import { toJson } from "@bufbuild/protobuf";
import {
  type ModelVersion,
  ModelVersionSchema,
  RegisteredModelSchema,
  Stage,
} from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { createCliClient } from "../cli-client.js";
import type { Command } from "../command.js";
import { formatTime, truncate } from "../display-values.js";
import { truncatedNote, writeJson } from "../output.js";
import { collectPages, parseLimit } from "../paging.js";
import { renderTable } from "../table.js";

/** The `models list` command. */
export const modelsListCommand: Command = {
  name: "models list",
  section: "Model registry",
  summary: "list registered models with their Production and Staging versions and aliases",
  arguments: [],
  options: {
    filter: { type: "string", valueName: "EXPR", description: "e.g. \"name LIKE 'iris%'\"" },
    limit: { type: "string", valueName: "N", description: "at most N models (default 100)" },
  },
  examples: ["models list", "models list --json"],
  async run({ io, args, json, registryUrl }) {
    const limit = parseLimit(args.string("limit"), 100);
    const client = createCliClient(registryUrl(), io.env);
    const { items, truncated } = await collectPages(limit, 1000, async (pageToken, maxResults) => {
      const r = await client.registry.searchRegisteredModels({
        filter: args.string("filter") ?? "",
        maxResults,
        pageToken,
      });
      return { items: r.registeredModels, nextPageToken: r.nextPageToken };
    });
    const latest = await Promise.all(
      items.map(async (m) => {
        const r = await client.registry.getLatestVersions({ name: m.name, stages: [Stage.PRODUCTION, Stage.STAGING] });
        return r.modelVersions;
      }),
    );
    if (json) {
      writeJson(io, {
        registeredModels: items.map((m, i) => ({
          ...(toJson(RegisteredModelSchema, m) as Record<string, unknown>),
          latestVersions: (latest[i] ?? []).map((v) => toJson(ModelVersionSchema, v)),
        })),
        truncated,
      });
      return undefined;
    }
    const inStage = (versions: readonly ModelVersion[] | undefined, stage: Stage): string => {
      const v = versions?.find((x) => x.currentStage === stage);
      return v === undefined ? "-" : String(v.version);
    };
    const rows = items.map((m, i) => [
      m.name,
      inStage(latest[i], Stage.PRODUCTION),
      inStage(latest[i], Stage.STAGING),
      Object.entries(m.aliases)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([alias, v]) => `${alias}=${v}`)
        .join(",") || "-",
      formatTime(m.lastUpdatedTime),
      truncate(m.description, 40),
    ]);
    io.stdout.write(renderTable(["NAME", "PRODUCTION", "STAGING", "ALIASES", "UPDATED", "DESCRIPTION"], rows));
    truncatedNote(io, truncated, limit, "models");
    return undefined;
  },
};
