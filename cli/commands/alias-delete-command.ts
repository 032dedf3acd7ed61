/** `mlpipe alias delete <model> <alias>`. */
import { createCliClient } from "../cli-client.js";
import type { Command } from "../command.js";
import { writeJson } from "../output.js";

/** The `alias delete` command. */
export const aliasDeleteCommand: Command = {
  name: "alias delete",
  section: "Model registry",
  summary: "delete an alias of a model",
  arguments: [
    { name: "model", description: "registered model name" },
    { name: "alias", description: "the alias" },
  ],
  options: {},
  examples: ["alias delete iris-classifier champion"],
  async run({ io, args, json, registryUrl }) {
    const [name = "", alias = ""] = args.positionals;
    const client = createCliClient(registryUrl(), io.env);
    await client.registry.deleteRegisteredModelAlias({ name, alias });
    if (json) writeJson(io, { name, alias, deleted: true });
    else io.stdout.write(`deleted ${name}@${alias}\n`);
    return undefined;
  },
};
