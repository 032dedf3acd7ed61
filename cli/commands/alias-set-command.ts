/** `mlpipe alias set <model> <alias> <version>`. */
import { createCliClient } from "../cli-client.js";
import type { Command } from "../command.js";
import { writeJson } from "../output.js";
import { parseVersion } from "../registry-arguments.js";

/** The `alias set` command. */
export const aliasSetCommand: Command = {
  name: "alias set",
  section: "Model registry",
  summary: "point an alias of a model (e.g. champion) at a version",
  details: "Inference servers serving the alias (MODEL_STAGE=<alias>) swap to the version at once.",
  arguments: [
    { name: "model", description: "registered model name" },
    { name: "alias", description: "letters, digits, _ and -; `latest` and v<digits> are reserved" },
    { name: "version", description: "version number" },
  ],
  options: {},
  examples: ["alias set iris-classifier champion 2"],
  async run({ io, args, json, registryUrl }) {
    const [name = "", alias = "", versionText = ""] = args.positionals;
    const version = parseVersion(versionText);
    const client = createCliClient(registryUrl(), io.env);
    await client.setAlias(name, alias, version);
    if (json) writeJson(io, { name, alias, version });
    else io.stdout.write(`${name}@${alias} -> version ${version}\n`);
    return undefined;
  },
};
