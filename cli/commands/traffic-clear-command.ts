/** `mlpipe traffic clear <model>`. */
import { trafficSplitTag } from "../../core/validation/traffic-split.js";
import { createCliClient } from "../cli-client.js";
import type { Command } from "../command.js";
import { writeJson } from "../output.js";

/** The `traffic clear` command. */
export const trafficClearCommand: Command = {
  name: "traffic clear",
  section: "Model registry",
  summary: "remove a model's traffic split: its followed version answers every request",
  arguments: [{ name: "model", description: "registered model name" }],
  options: {},
  examples: ["traffic clear iris-classifier"],
  async run({ io, args, json, registryUrl }) {
    const [name = ""] = args.positionals;
    const client = createCliClient(registryUrl(), io.env);
    await client.registry.deleteRegisteredModelTag({ name, key: trafficSplitTag });
    if (json) writeJson(io, { name, cleared: true });
    else io.stdout.write(`${name}: traffic split cleared\n`);
    return undefined;
  },
};
