/** `mlpipe promote <model> <version> <stage>`: moves a version to a stage. */
import { toJson } from "@bufbuild/protobuf";
import { ModelVersionSchema } from "../../gen/mlpipe/registry/v1/registry_pb.js";
import { createCliClient } from "../cli-client.js";
import type { Command } from "../command.js";
import { writeJson } from "../output.js";
import { parseStage, parseVersion } from "../registry-arguments.js";

/** The `promote` command. */
export const promoteCommand: Command = {
  name: "promote",
  section: "Model registry",
  summary: "move a model version to a stage (None, Staging, Production, Archived)",
  details: [
    "Inference servers serving that stage swap to the version at once, without failing a request.",
    "With --archive-existing the versions already in the stage (Staging or Production) are archived.",
  ].join("\n"),
  arguments: [
    { name: "model", description: "registered model name" },
    { name: "version", description: "version number" },
    { name: "stage", description: "None, Staging, Production or Archived (any case)" },
  ],
  options: {
    "archive-existing": { type: "boolean", description: "archive the versions already in the target stage" },
  },
  examples: ["promote iris-classifier 2 Production --archive-existing"],
  async run({ io, args, json, registryUrl }) {
    const [name = "", versionText = "", stageText = ""] = args.positionals;
    const version = parseVersion(versionText);
    const stage = parseStage(stageText);
    const client = createCliClient(registryUrl(), io.env);
    const updated = await client.setStage(name, version, stage, {
      archiveExistingVersions: args.boolean("archive-existing"),
    });
    if (json) writeJson(io, { modelVersion: toJson(ModelVersionSchema, updated) });
    else io.stdout.write(`${name} version ${updated.version} is now in ${stage}\n`);
    return undefined;
  },
};
